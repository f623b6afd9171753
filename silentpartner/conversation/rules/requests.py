"""What the caller wants, at any turn: details volunteered out of turn are kept, a new request switches flow."""

from __future__ import annotations

import re

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import booking, emergency, existing, messages, times
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.when import Alternatives, InThePast, TimeWindow

# States whose own question is about the detail, so the handler (not this module) takes it.
_ASKS_NAME = frozenset({State.NAME})
_ASKS_PHONE = frozenset({State.PHONE, State.PHONE_CONFIRM})
_ASKS_ADDRESS = frozenset({State.ADDRESS})
_ASKS_TIME = frozenset({State.WHEN, State.WHEN_WHICH, State.SLOT_CHOICE, State.CONFIRM, State.CHANGE})
_OPEN = frozenset({State.GREETING, State.NEED, State.ANYTHING_ELSE, State.OFFER_BOOK, State.TRANSFERRED})
_BOOKING_FLOWS = frozenset({Flow.BOOK, Flow.EMERGENCY})
_EXISTING = re.compile(r"\b(my|our|the|existing|other) (\w+ )?(appointment|booking|visit|service call|estimate)\b")


def keep_volunteered(c: Capabilities, r: Reading) -> None:
    """Whatever the question was, a detail the caller offered is kept and never asked for again."""
    m = c.memory
    d = m.details
    if r.email:
        d.email = r.email
    if r.name and m.state not in _ASKS_NAME and not d.name:
        d.name = r.name
    if r.phone and m.state not in _ASKS_PHONE and m.flow in (Flow.NONE, *_BOOKING_FLOWS, Flow.MESSAGE):
        if r.phone != d.phone or not d.phone_confirmed:
            d.phone, d.phone_confirmed = r.phone, True
    if r.address and m.state not in _ASKS_ADDRESS and not d.address and m.flow in (Flow.NONE, *_BOOKING_FLOWS):
        d.address = r.address
    if r.problem and not d.problem and m.flow in (Flow.NONE, *_BOOKING_FLOWS) and m.state != State.MESSAGE:
        d.problem = r.problem
    if (
        isinstance(r.when, TimeWindow | Alternatives | InThePast)
        and m.state not in _ASKS_TIME
        and m.flow in (Flow.NONE, Flow.BOOK, Flow.RESCHEDULE)
        and not m.windows
    ):
        m.windows, m.search_note = times.windows_for(c, r.when)


def switch(c: Capabilities, r: Reading) -> list[Action] | None:
    """A request that changes what the caller is doing, said at any point ("actually, can I just cancel?")."""
    m = c.memory
    in_booking = m.flow in _BOOKING_FLOWS
    names_existing = bool(_EXISTING.search(r.plain)) or "reschedul" in r.plain
    if r.has(Intent.RESCHEDULE) and m.flow != Flow.RESCHEDULE and (not in_booking or names_existing):
        return existing.start(c, Flow.RESCHEDULE, r)
    if r.has(Intent.CANCEL) and m.flow != Flow.CANCEL:
        if in_booking and not names_existing:
            # "no, cancel that" while booking: don't book
            return c.ask(State.ANYTHING_ELSE, "anything_else", before=[c.say("not_booked")])
        return existing.start(c, Flow.CANCEL, r)
    if r.has(Intent.LOOKUP) and m.flow not in (Flow.LOOKUP, Flow.RESCHEDULE, Flow.CANCEL):
        return existing.start(c, Flow.LOOKUP, r)
    if r.has(Intent.MESSAGE) and m.flow != Flow.MESSAGE and m.state not in (State.MESSAGE_OFFER, State.WAY_OUT):
        return messages.start(c, r)
    if r.emergency and m.flow in (Flow.NONE, Flow.BOOK) and m.state not in (State.CONFIRM,):
        if not _later_time_asked(c, r) and (m.flow == Flow.NONE or r.water_running or r.has(Intent.URGENT)):
            return emergency.start(c, r)
    return None


def start(c: Capabilities, r: Reading) -> list[Action] | None:
    """A request to start from an open question ("how can I help?", "anything else?")."""
    m = c.memory
    if m.state not in _OPEN and m.flow not in (Flow.NONE, Flow.LOOKUP):
        return None
    if r.has(Intent.BOOK) or r.problem or r.says_a_time or r.has(Intent.URGENT):
        return booking.start(c, r)
    return None


def _later_time_asked(c: Capabilities, r: Reading) -> bool:
    """The caller named a time that is not today or as soon as possible: they are not asking for an emergency."""
    windows = list(c.memory.windows)
    if isinstance(r.when, TimeWindow):
        windows = [r.when]
    elif isinstance(r.when, Alternatives):
        windows = list(r.when.options)
    if not windows or any(w.asap for w in windows):
        return False
    today = c.today()
    return all(w.start.astimezone(c.business.tz).date() > today for w in windows)
