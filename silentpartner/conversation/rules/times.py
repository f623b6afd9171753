"""Finding a time: what the caller asked for, a question back when it is ambiguous, the offer (with the reason
when the times are not what was asked: passed, closed, full), and the caller's pick among the times."""

from __future__ import annotations

from datetime import datetime, timedelta

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading, When
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.when import ASAP_DAYS, Alternatives, Ambiguous, InThePast, TimeWindow
from silentpartner.speech_text import DAY_NAMES, clock


def on_when(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.when is not None:
        return find(c, r.when)
    if r.has(Intent.UNSURE) or r.has(Intent.URGENT):
        return find(c, _asap(c))
    return None


def on_when_which(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.when_choice is not None:
        c.memory.ambiguous = None
        return find(c, r.when_choice)
    if r.when is not None and not isinstance(r.when, Ambiguous):
        c.memory.ambiguous = None
        return find(c, r.when)
    return None


def on_slot_choice(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.slot:
        return [c.choose(r.slot)]
    if r.when is not None:
        return find(c, r.when)
    if r.no or r.has(Intent.REJECT_OFFER):
        return c.ask(State.WHEN, "pick_other_day")
    return None


def find(c: Capabilities, when: When) -> list[Action]:
    """Search for what the caller asked, or ask back when it is ambiguous; a passed time gets the nearest times."""
    m = c.memory
    m.search_note = ""
    if isinstance(when, Ambiguous):
        m.ambiguous = when
        return c.ask(State.WHEN_WHICH, text=when.question)
    if isinstance(when, InThePast):
        m.search_note = when.message
        window = _asap(c)
    elif isinstance(when, Alternatives):
        window = None
        windows = list(when.options)
    else:
        window = when
    if window is not None:
        windows = [window]
    limit = c.now_local() + timedelta(days=c.business.booking_window_days)
    if all(w.start > limit for w in windows):
        return c.ask(State.WHEN, "too_far", days=c.business.booking_window_days)
    uid = m.target_uid if m.flow in (Flow.RESCHEDULE, Flow.OWNER) else None
    return [c.search(windows, purpose="offer", reschedule_uid=uid)]


def _asap(c: Capabilities) -> TimeWindow:
    now = c.now_local()
    end = datetime.combine(now.date() + timedelta(days=ASAP_DAYS), datetime.min.time(), tzinfo=c.business.tz)
    return TimeWindow(start=now, end=end, label="as soon as possible", asap=True)


def exact_hit(c: Capabilities, result: dict) -> str | None:
    """The offered slot, when the caller asked for one precise time and that very time is free."""
    m = c.memory
    if result.get("nearest") or len(m.windows) != 1 or not m.windows[0].exact or len(m.last_offer) != 1:
        return None
    slot = m.offered[m.last_offer[0]]
    return slot.id if slot.start == m.windows[0].start and not m.search_note else None


def offer(c: Capabilities, *, nearest: bool, taken: bool = False) -> list[Action]:
    """Offer the times just found, saying why they differ from what was asked when they do."""
    m = c.memory
    ids = m.last_offer
    before = [c.say("slot_taken")] if taken else []
    if not ids:
        m.message = f"No openings found for {c.memory.details.problem or 'a visit'}; please call back"
        return c.ask(State.MESSAGE_OFFER, "none_at_all", before=before)
    options = c.options_text(ids)
    several = len(ids) > 1
    if m.search_note and not taken:
        text = c.line(
            "offer_passed",
            passed=m.search_note,
            are="are" if several else "is",
            options=options,
            any="any of those" if several else "that",
        )
        m.search_note = ""
    elif nearest and m.windows and not taken:
        reason = closed_reason(c, m.windows[0])
        if reason:
            text = c.line("offer_reason", reason=reason, options=options)
        else:
            text = c.line("offer_nearest", label=m.windows[0].label or "then", options=options)
    elif m.windows and not taken and (closing := closes_within(c, m.windows[0])):
        text = c.line("offer_closing", reason=closing, options=options, any="any of those" if several else "that")
    else:
        text = c.line("offer" if several else "offer_one", options=options)
    return c.ask(State.SLOT_CHOICE, text=text, before=before)


def closed_reason(c: Capabilities, window: TimeWindow) -> str | None:
    """Why nothing was free in the asked-for window, when it is the opening hours: "We close at 1 PM on
    Saturdays". None when the business is open then and simply full."""
    service = c.business.service(c.memory.service) if c.memory.service else c.business.default_service()
    local = window.start.astimezone(c.business.tz)
    day_name = DAY_NAMES[local.weekday()]
    if c.business.is_closed_on(local.date()):
        return "We're closed that day"
    spans = c.business.hours_for(service).for_weekday(local.weekday())
    if not spans:
        return f"We're closed on {day_name}s"
    opens, closes = spans[0].start_minutes, spans[-1].end_minutes
    start = local.hour * 60 + local.minute
    end_local = window.end.astimezone(c.business.tz)
    end = (end_local.hour * 60 + end_local.minute) or 24 * 60
    if end_local.date() > local.date():
        end = 24 * 60
    if window.exact:
        if start >= closes:
            return f"We close at {clock(closes)} on {day_name}s"
        if start < opens:
            return f"We don't start until {clock(opens)}"
        return None
    if start >= closes:
        return f"We close at {clock(closes)} on {day_name}s"
    if end <= opens:
        return f"We don't start until {clock(opens)}"
    return None


def closes_within(c: Capabilities, window: TimeWindow) -> str | None:
    """ "We close at 1 PM on Saturdays" when most of an asked-for stretch ("Saturday afternoon") is after hours."""
    if window.exact:
        return None
    service = c.business.service(c.memory.service) if c.memory.service else c.business.default_service()
    local, end_local = window.start.astimezone(c.business.tz), window.end.astimezone(c.business.tz)
    spans = c.business.hours_for(service).for_weekday(local.weekday())
    if not spans or end_local.date() != local.date():
        return None
    closes = spans[-1].end_minutes
    start, end = local.hour * 60 + local.minute, end_local.hour * 60 + end_local.minute
    if start < closes < end and end - closes >= 120:
        return f"We close at {clock(closes)} on {DAY_NAMES[local.weekday()]}s"
    return None


def windows_for(c: Capabilities, when: When) -> tuple[tuple[TimeWindow, ...], str]:
    """What to search for a time said out of turn, and why it differs: a passed time becomes the soonest."""
    if isinstance(when, InThePast):
        return (_asap(c),), when.message
    if isinstance(when, Alternatives):
        return when.options, ""
    if isinstance(when, TimeWindow):
        return (when,), ""
    return (), ""


def reoffer(c: Capabilities) -> list[Action]:
    """The times offered, said again (a caller who asked "what were those again?")."""
    return c.ask(State.SLOT_CHOICE, text=f"I have {c.options_text(c.memory.last_offer)}. Which would you like?")
