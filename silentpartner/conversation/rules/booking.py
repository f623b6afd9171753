"""Starting a booking or an emergency call-out, and `next_step`: the next thing a booking still needs
(problem, name, phone, address, a time, a hold, the read-back).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action
from silentpartner.conversation.intents import describes_problem, wants_estimate
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.spoken.addresses import extract_address
from silentpartner.conversation.spoken.emails import extract_email
from silentpartner.conversation.spoken.names import extract_name
from silentpartner.conversation.when_adapter import understand
from silentpartner.phones import last_four

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def absorb_details(e: Engine, text: str) -> None:
    """Pick up whatever details came along with the request ("I'm John, at 12 Oak St, tomorrow at 2")."""
    d = e.state.details
    if not d.name and re.search(r"\b(my name|name'?s|this is|i'?m [A-Z])", text):
        d.name = extract_name(text)
    if not d.address:
        d.address = extract_address(text)
    email = extract_email(text)
    if email:
        d.email = email


def start_booking(e: Engine, text: str) -> list[Action]:
    s = e.state
    s.intent, s.phase = "book", Phase.DETAILS
    s.chosen, s.hold_id, s.window = None, None, None
    estimate = next((sv for sv in e.business.services if sv.slug == "estimate" or "estimate" in sv.name), None)
    s.service = estimate.slug if wants_estimate(text) and estimate else e.business.default_service().slug
    if describes_problem(text):
        s.details.problem = text
    elif wants_estimate(text):
        s.details.problem = text
    absorb_details(e, text)
    window = understand(e, text)
    if window.get("kind") == "window":
        s.window = window
    return next_step(e)


def start_emergency(e: Engine, text: str) -> list[Action]:
    s = e.state
    service = e.business.emergency_service()
    if service is None:
        s.details.urgent = True
        return start_booking(e, text)
    s.intent, s.phase, s.service = "emergency", Phase.EMERGENCY, service.slug
    s.details.problem, s.details.urgent = text, True
    absorb_details(e, text)
    now = e.now_local()
    end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    window = {"kind": "window", "start": now.isoformat(), "end": end.isoformat(), "label": "today", "exact": False}
    return [e.search(window, purpose="emergency")]


def next_step(e: Engine) -> list[Action]:
    s = e.state
    d = s.details
    if s.intent == "emergency" and s.chosen is None:
        return [e.search(s.window, purpose="emergency")] if s.window else start_emergency(e, d.problem or "")
    if s.intent == "book" and not d.problem:
        return e.ask("ask_problem", "problem")
    if not d.name:
        return e.ask("ask_name", "name")
    if not d.phone_confirmed:
        if d.phone and not e.is_sms:
            return e.ask("confirm_phone", "phone_confirm", last4=last_four(d.phone))
        return e.ask("ask_phone_sms" if e.is_sms else "ask_phone", "phone")
    if not d.address:
        return e.ask("ask_address", "address")
    if s.chosen is None:
        if s.window and s.window.get("kind") == "window":
            s.phase = Phase.FIND_TIME
            return [e.search(s.window, purpose="offer")]
        s.phase = Phase.FIND_TIME
        return e.ask("ask_when", "when")
    if s.hold_id is None:
        return [e.choose(s.chosen)]
    s.phase = Phase.CONFIRM
    return e.readback()
