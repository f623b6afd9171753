"""Emergencies, as the business defines them: a gas smell (safety line, the owner told, hang up), and water or
sewage trouble (the safety line first when water is running, then the earliest emergency slot or the owner)."""

from __future__ import annotations

import re

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Outcome
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import booking, times
from silentpartner.conversation.states import Flow, State

_TRANSFER = re.compile(r"\b(put me through|transfer|talk to|speak to|speak with|call (him|her|the owner)|owner)\b")
_TAKE_IT = re.compile(r"\b(book|that one|earliest|take it|do it|please)\b")


def report_gas(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    m.flow = Flow.EMERGENCY
    m.details.problem = r.problem or r.text
    actions = c.take_message(f"GAS SMELL reported: {r.text}")
    m.outcome = Outcome(action="message", message=f"Gas smell reported: {r.text}")
    return [c.say("gas", interruptible=False), *actions, *c.hang_up("gas")]


def start(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    service = c.business.emergency_service()
    before = [safety] if (safety := booking.safety_line(c, r)) else []
    m.details.urgent = True
    if r.problem or not m.details.problem:
        m.details.problem = r.problem or r.text
    if service is None:  # the business has no emergency service: book the soonest ordinary visit
        return [*before, *booking.start(c, r)]
    m.flow, m.service = Flow.EMERGENCY, service.slug
    m.chosen, m.hold_id = None, None
    return [*before, booking.emergency_search(c)]


def offer(c: Capabilities) -> list[Action]:
    m = c.memory
    allow = c.business.allow_emergency_transfer and not c.is_sms
    if not m.last_offer:
        if allow:
            return [c.say("emergency_none"), *c.transfer("emergency")]
        m.flow = Flow.MESSAGE
        return c.ask(State.MESSAGE, "ask_message", before=[c.say("emergency_none")])
    first = m.offered[m.last_offer[0]]
    m.last_offer = [first.id]
    transfer = c.line("emergency_transfer_option") if allow else ""
    return c.ask(State.EMERGENCY_OFFER, "emergency_offer", when=first.label, transfer=transfer)


def on_offer(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if _TRANSFER.search(r.plain) and c.business.allow_emergency_transfer:
        return c.transfer("emergency")
    if m.last_offer and (r.yes or r.slot or (_TAKE_IT.search(r.plain) and not r.no)):
        return [c.choose(m.last_offer[0])]
    if r.no:
        if c.business.allow_emergency_transfer and not c.is_sms:
            return c.transfer("emergency")
        return c.ask(State.WHEN, "ask_when")
    if r.when is not None:
        return times.find(c, r.when)
    return None
