"""Booking a visit: starting one, `next_step` (the next thing a booking still needs: the problem, name, number,
address, a time, a hold, the read-back) and what is said once it is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Say
from silentpartner.conversation.lexicon import ESTIMATE
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules.times import windows_for
from silentpartner.conversation.spoken.addresses import split_address
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.when import Ambiguous, TimeWindow
from silentpartner.conversation.wording import acknowledgement


def start(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    m.flow = Flow.BOOK
    m.chosen, m.hold_id = None, None
    estimate = next((s for s in c.business.services if s.slug == "estimate" or "estimate" in s.name), None)
    m.service = estimate.slug if estimate and ESTIMATE.search(r.plain) else c.business.default_service().slug
    if r.problem:
        m.details.problem = r.problem
    elif estimate and m.service == estimate.slug and not m.details.problem:
        m.details.problem = r.text
    if r.when is not None and not isinstance(r.when, Ambiguous):
        m.windows, m.search_note = windows_for(c, r.when)
    before = [safety] if (safety := safety_line(c, r)) else []
    return [*before, *next_step(c)]


def safety_line(c: Capabilities, r: Reading) -> Say | None:
    """Water running now: how to stop it, said once, before anything else."""
    line = c.business.emergencies.safety_line
    if r.water_running and line and c.memory.tell_once("safety"):
        return Say(line, interruptible=False)
    return None


def next_step(c: Capabilities) -> list[Action]:
    m = c.memory
    d = m.details
    if m.flow == Flow.EMERGENCY and m.chosen is None:
        return [emergency_search(c)]
    if m.flow == Flow.BOOK and not d.problem:
        return c.ask(State.PROBLEM, "ask_problem")
    ack = [Say(acknowledgement(d.problem))] if d.problem and m.flow == Flow.BOOK and m.tell_once("ack") else []
    if not d.name:
        return c.ask(State.NAME, "ask_name", before=ack)
    if not d.phone_confirmed:
        if d.phone and not c.is_sms:
            return c.ask(State.PHONE_CONFIRM, "confirm_phone", before=ack, last4=c.last4(d.phone))
        return c.ask(State.PHONE, "ask_phone_sms" if c.is_sms else "ask_phone", before=ack)
    if not d.address:
        return c.ask(State.ADDRESS, "ask_address", before=ack)
    outside = _outside_area(c)
    if outside is not None:
        return outside
    if m.chosen is None:
        if m.windows:
            return [*ack, c.search(m.windows, purpose="offer")]
        return c.ask(State.WHEN, "ask_when", before=ack)
    if m.hold_id is None:
        return [c.choose(m.chosen)]
    return c.readback()


def emergency_search(c: Capabilities) -> Action:
    """The earliest emergency opening, from now to the end of today."""
    now = c.now_local()
    end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=c.business.tz)
    return c.search([TimeWindow(start=now, end=end, label="today", asap=True)], purpose="emergency")


def _outside_area(c: Capabilities) -> list[Action] | None:
    """An address the business doesn't cover: said politely, once, with a message offered instead."""
    area = c.business.service_area
    address = c.memory.details.address
    if area is None or not address:
        return None
    _, city, postcode = split_address(address)
    if area.covers(city, postcode) is not False or not c.memory.tell_once(f"area:{address}"):
        return None
    c.memory.message = f"Outside the service area ({address}): {c.memory.details.problem or 'wants a visit'}"
    place = city or postcode or address
    return c.ask(State.MESSAGE_OFFER, "out_of_area", place=place, area=area.describe())


def done(c: Capabilities, name: str, booking: dict[str, Any]) -> list[Action]:
    """The calendar said yes: say so (it must be heard in full), then ask if there is anything else."""
    m = c.memory
    start = datetime.fromisoformat(booking["start"])
    when = c.label(start)
    if name == "book":
        line = c.say(
            "booked",
            interruptible=False,
            what=c.with_article(booking["service"]),
            when=when,
            last4=c.last4(booking.get("phone")),
        )
    elif name == "reschedule":
        line = c.say("rescheduled", interruptible=False, what=c.service_name(booking["service"]), when=when)
    else:
        line = c.say("cancelled", interruptible=False, what=c.service_name(booking["service"]), when=when)
    m.flow = Flow.NONE
    m.misses.clear()
    return c.ask(State.ANYTHING_ELSE, "anything_else", before=[line])
