"""An existing booking: finding the caller's bookings, picking one, then rescheduling, cancelling or
saying when it is.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from silentpartner.conversation.events import Action
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.intents import is_done
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.rules.booking import start_booking
from silentpartner.conversation.rules.matching import ORDINAL_PICKS, mentions_day
from silentpartner.conversation.spoken.yes_no import is_no, is_yes
from silentpartner.conversation.when_adapter import understand

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def start_lookup(e: Engine, kind: str, text: str) -> list[Action]:
    s = e.state
    s.intent = kind
    s.phase = {"reschedule": Phase.RESCHEDULE, "cancel": Phase.CANCEL}.get(kind, Phase.LOOKUP)
    window = understand(e, text)
    s.window = window if window.get("kind") == "window" else None
    tool = e.load_bookings(kind)
    if tool is None:
        line = "I can only look up appointments for the number you're calling from, and it's withheld."
        s.intent, s.phase = "message", Phase.MESSAGE
        return e.ask("ask_message", "message", before=[SayAction(line)])
    return [tool]


def _pick_booking(e: Engine, text: str) -> str | None:
    s = e.state
    lowered = text.lower()
    for i, pattern in ORDINAL_PICKS:
        if re.search(pattern, lowered) and s.bookings:
            return s.bookings[i].uid if i < len(s.bookings) else None
    matches = [b for b in s.bookings if mentions_day(e, lowered, b.start) or _mentions_service(e, lowered, b.service)]
    return matches[0].uid if len(matches) == 1 else None


def on_which_booking(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    uid = _pick_booking(e, text)
    if uid is None:
        return e.ask_text(e.state.last_prompt or "", "which_booking")
    return act_on_booking(e, uid)


def act_on_booking(e: Engine, uid: str) -> list[Action]:
    s = e.state
    s.target_uid = uid
    booking = next(b for b in s.bookings if b.uid == uid)
    s.service = booking.service
    what = e.service_name(booking.service)
    if s.intent == "cancel":
        s.readback_for, s.readback_yes = f"cancel:{uid}", False
        return e.ask("ask_cancel", "readback", what=what, when=booking.label)
    if s.window and not _names_booking_day(e, s.window, booking.start):
        window, s.window = s.window, None
        return [e.search(window, purpose="offer", reschedule_uid=uid)]
    s.window = None
    return e.ask("ask_reschedule_when", "when", what=what, when=booking.label)


def on_offer_book(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    if is_yes(text) or "book" in kinds:
        e.state.window = None
        return start_booking(e, text)
    if is_no(text) or is_done(text):
        return e.ask("anything_else", "anything_else", before=[e.say("ok")])
    return None


def bookings_loaded(e: Engine) -> list[Action]:
    s = e.state
    if not s.bookings:
        return e.ask("no_bookings", "offer_book")
    if s.intent == "lookup":
        if s.outcome.get("action") == "none":
            s.outcome = {"action": "info"}
        if len(s.bookings) == 1:
            b = s.bookings[0]
            line = e.say("your_booking", what=e.service_name(b.service), when=b.label)
        else:
            listed = "; ".join(f"{e.with_article(b.service)} {b.label}" for b in s.bookings)
            line = e.say("your_bookings", count=len(s.bookings), list=listed)
        return e.ask("anything_else", "anything_else", before=[line])
    if len(s.bookings) == 1:
        return act_on_booking(e, s.bookings[0].uid)
    named = [b for b in s.bookings if s.window and _names_booking_day(e, s.window, b.start)]
    if len(named) == 1:  # "my appointment on Thursday"
        return act_on_booking(e, named[0].uid)
    listed = " and ".join(f"{e.with_article(b.service)} {b.label}" for b in s.bookings)
    return e.ask("which_booking", "which_booking", list=listed)


def _names_booking_day(e: Engine, window: dict[str, Any], booking_start: str) -> bool:
    """A day the caller said that is the day of their booking ("my Thursday appointment")."""
    start = datetime.fromisoformat(booking_start).astimezone(e.business.tz)
    begin = datetime.fromisoformat(window["start"]).astimezone(e.business.tz)
    end = datetime.fromisoformat(window["end"]).astimezone(e.business.tz)
    return begin.date() <= start.date() <= (end - timedelta(microseconds=1)).date() and not window.get("exact")


def _mentions_service(e: Engine, lowered: str, slug: str) -> bool:
    words = [w for w in e.service_name(slug).lower().split() if len(w) > 4]
    return any(re.search(rf"\b{re.escape(w)}", lowered) for w in words)
