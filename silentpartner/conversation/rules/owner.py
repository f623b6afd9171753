"""The owner calling in: reading out their schedule for a day."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from silentpartner.conversation.events import Action
from silentpartner.conversation.events import Say as SayAction
from silentpartner.speech_text import clock, spoken_day

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def owner_schedule(e: Engine, bookings: list[dict[str, Any]], day_iso: str | None = None) -> list[Action]:
    today = e.now_local().date()
    day = datetime.fromisoformat(day_iso).date() if day_iso else today
    day_words = spoken_day(day, today)
    day_words = day_words if day_words in ("today", "tomorrow") else f"on {day_words}"
    if not bookings:
        line = e.line("owner_none", day=day_words)
    else:
        first = bookings[0]
        start = datetime.fromisoformat(first["start"]).astimezone(e.business.tz)
        detail = f", first at {clock(start)} with {first.get('name') or 'a customer'}"
        if first.get("address"):
            detail += f" at {first['address']}"
        tz = e.business.tz
        rest = [
            f"{clock(datetime.fromisoformat(b['start']).astimezone(tz))} with {b.get('name') or 'a customer'}"
            for b in bookings[1:]
        ]
        if rest:
            detail += ", then " + ", ".join(rest)
        count = "one appointment" if len(bookings) == 1 else f"{len(bookings)} appointments"
        line = e.line("owner_schedule", count=count, first=detail, day=day_words)
    first_turn = e.state.awaiting is None
    greeting = f"Hi {e.owner_name}. " if first_turn else ""
    return e.ask("anything_else", "anything_else", before=[SayAction(greeting + line)])
