"""The owner calling in: their schedule for a day, read out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Say
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.states import State
from silentpartner.conversation.when import TimeWindow
from silentpartner.speech_text import clock, spoken_day


def schedule_request(c: Capabilities, r: Reading) -> list[Action]:
    day = r.when.start.astimezone(c.business.tz).date() if isinstance(r.when, TimeWindow) else None
    return [c.owner_schedule(day)]


def on_owner(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.says_a_time:
        return schedule_request(c, r)
    if r.no or r.has(Intent.THANKS, Intent.GOODBYE):
        return c.goodbye()
    return None


def schedule(c: Capabilities, bookings: list[dict[str, Any]], day_iso: str | None = None) -> list[Action]:
    today = c.today()
    day = datetime.fromisoformat(day_iso).date() if day_iso else today
    day_words = spoken_day(day, today)
    day_words = day_words if day_words in ("today", "tomorrow") else f"on {day_words}"
    tz = c.business.tz
    if not bookings:
        line = c.line("owner_none", day=day_words)
    else:
        first = bookings[0]
        start = datetime.fromisoformat(first["start"]).astimezone(tz)
        detail = f", first at {clock(start)} with {first.get('name') or 'a customer'}"
        if first.get("address"):
            detail += f" at {first['address']}"
        rest = [
            f"{clock(datetime.fromisoformat(b['start']).astimezone(tz))} with {b.get('name') or 'a customer'}"
            for b in bookings[1:]
        ]
        if rest:
            detail += ", then " + ", ".join(rest)
        count = "one appointment" if len(bookings) == 1 else f"{len(bookings)} appointments"
        line = c.line("owner_schedule", count=count, first=detail, day=day_words)
    first_turn = not c.memory.last_prompt
    greeting = f"Hi {c.owner_name}. " if first_turn else ""
    return c.ask(State.OWNER, "anything_else", before=[Say(greeting + line)])
