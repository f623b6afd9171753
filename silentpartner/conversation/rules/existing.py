"""A caller's existing bookings: looking them up by their number, picking one, then moving, cancelling or saying
when it is. Only bookings under the number they call from are ever listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Outcome, Say
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.memory import MoveRequest
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import booking, times
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.when import Alternatives, TimeWindow


def start(c: Capabilities, flow: Flow, r: Reading) -> list[Action]:
    m = c.memory
    m.flow = flow
    m.target_uid, m.chosen, m.move = None, None, None
    if isinstance(r.when, TimeWindow):
        m.windows = (r.when,)
    elif isinstance(r.when, Alternatives):
        m.windows = r.when.options
    else:
        m.windows = ()
    if r.move is not None:
        day = r.move.booking_day
        m.move = MoveRequest(
            booking_day=day.start.astimezone(c.business.tz).date() if isinstance(day, TimeWindow) else None,
            shift_minutes=int(r.move.shift.total_seconds() // 60) if r.move.shift else None,
            same_time=r.move.same_time,
            later_same_day=r.move.later_same_day,
        )
    if m.bookings_loaded:
        return bookings_loaded(c, r)
    tool = c.load_bookings(flow.value)
    if tool is None:
        m.flow = Flow.MESSAGE
        return c.ask(State.MESSAGE, "ask_message", before=[c.say("withheld")])
    return [tool]


def bookings_loaded(c: Capabilities, r: Reading | None = None) -> list[Action]:
    m = c.memory
    if not m.bookings:
        if m.tell_once("no_bookings"):
            m.flow = Flow.NONE
            return c.ask(State.OFFER_BOOK, "no_bookings")
        m.flow = Flow.MESSAGE
        m.message = "Asked about an appointment, but none is booked under this number; please look it up"
        return c.ask(State.MESSAGE_OFFER, "no_bookings_again")
    if m.flow == Flow.LOOKUP:
        if m.outcome.action == "none":
            m.outcome = Outcome(action="info")
        m.flow = Flow.NONE
        if len(m.bookings) == 1:
            b = m.bookings[0]
            line = c.say("your_booking", what=c.service_name(b.service), when=b.label)
        else:
            listed = "; ".join(f"{c.with_article(b.service)} {b.label}" for b in m.bookings)
            line = c.say("your_bookings", count=len(m.bookings), list=listed)
        return c.ask(State.ANYTHING_ELSE, "anything_else", before=[line])
    if r is not None and r.booking:
        return act_on(c, r.booking)
    if len(m.bookings) == 1:
        return act_on(c, m.bookings[0].uid)
    day = m.move.booking_day if m.move else None
    if day is not None:  # "my Thursday appointment"
        on_day = [b for b in m.bookings if b.start.astimezone(c.business.tz).date() == day]
        if len(on_day) == 1:
            return act_on(c, on_day[0].uid)
    named = [b for b in m.bookings if m.windows and _on_booking_day(c, m.windows[0], b.start)]
    if len(named) == 1:  # "my appointment on Thursday"
        m.windows = ()
        return act_on(c, named[0].uid)
    return c.ask(State.WHICH_BOOKING, "which_booking", list=_listed(c))


def _listed(c: Capabilities) -> str:
    return " and ".join(f"{c.with_article(b.service)} {b.label}" for b in c.memory.bookings)


def act_on(c: Capabilities, uid: str) -> list[Action]:
    m = c.memory
    m.target_uid = uid
    target = next(b for b in m.bookings if b.uid == uid)
    m.service = target.service
    what = c.service_name(target.service)
    if m.flow == Flow.CANCEL:
        m.readback_for, m.readback_yes = f"cancel:{uid}", False
        named = m.windows[0] if m.windows else None
        if named is not None and not _on_booking_day(c, named, target.start) and not named.exact:
            # "cancel my Thursday appointment" when theirs is on Friday: say so before asking about it
            before = [Say(f"I don't see a booking for you {named.label}.")]
            return c.ask(State.CONFIRM, "ask_cancel", before=before, what=what, when=target.label)
        if named is not None and named.exact and named.start != target.start:
            before = [Say(f"I don't see a booking for you {named.label}.")]
            return c.ask(State.CONFIRM, "ask_cancel", before=before, what=what, when=target.label)
        return c.ask(State.CONFIRM, "ask_cancel", what=what, when=target.label)
    relative = _relative_move(c, target.start)
    if relative is not None:
        return times.find(c, relative)
    if m.windows and not _on_booking_day(c, m.windows[0], target.start):
        return times.find(c, Alternatives(m.windows) if len(m.windows) > 1 else m.windows[0])
    m.windows = ()
    return c.ask(State.WHEN, "ask_reschedule_when", what=what, when=target.label)


def _relative_move(c: Capabilities, start: datetime) -> TimeWindow | None:
    """A new time said relative to the booking: "push it back a day", "same time next Tuesday", "later in the
    day"."""
    m = c.memory
    move = m.move
    if move is None:
        return None
    tz = c.business.tz
    local = start.astimezone(tz)
    if move.shift_minutes:
        at = (local.astimezone(UTC) + timedelta(minutes=move.shift_minutes)).astimezone(tz)
        return TimeWindow(start=at, end=_midnight_after(at), label=c.label(at), exact=True)
    if move.same_time and m.windows:
        day = m.windows[0].start.astimezone(tz).date()
        at = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
        return TimeWindow(start=at, end=_midnight_after(at), label=c.label(at), exact=True)
    if move.later_same_day:
        after = local + timedelta(hours=1)
        return TimeWindow(start=after, end=_midnight_after(after), label=f"later that day, after {c.label(after)}")
    return None


def _midnight_after(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), tzinfo=at.tzinfo)


def on_which_booking(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.booking:
        return act_on(c, r.booking)
    return None


def on_offer_book(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.yes or r.has(Intent.BOOK) or r.problem:
        c.memory.windows = ()
        return booking.start(c, r)
    if r.no:
        return c.ask(State.ANYTHING_ELSE, "anything_else", before=[c.say("ok")])
    return None


def _on_booking_day(c: Capabilities, window: TimeWindow, start) -> bool:
    """A day the caller named that is the day of their booking ("my Thursday appointment"), not a new time."""
    tz = c.business.tz
    begin, end = window.start.astimezone(tz), window.end.astimezone(tz)
    day = start.astimezone(tz).date()
    return begin.date() <= day <= (end - timedelta(microseconds=1)).date() and not window.exact
