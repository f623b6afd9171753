"""Emergencies: a gas smell (safety line, message, hang up) and offering the earliest emergency slot or
the owner's phone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.spoken.yes_no import is_no, is_yes

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def report_gas(e: Engine, text: str) -> list[Action]:
    s = e.state
    s.intent, s.phase = "emergency", Phase.EMERGENCY
    s.details.problem = text
    actions = e.take_message(f"GAS SMELL reported: {text}")
    s.outcome = {"action": "message", "message": f"Gas smell reported: {text}"}
    return [e.say("gas", interruptible=False), *actions, *e.hang_up("gas")]


def on_emergency_choice(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    if re.search(r"\b(put me through|transfer|talk to|speak to|call (him|her|the owner))\b", text, re.I):
        return e.transfer("emergency")
    if s.last_offer and (is_yes(text) or re.search(r"\b(book|that one|earliest)\b", text, re.I)):
        return [e.choose(s.last_offer[0])]
    if is_no(text):
        if e.business.allow_emergency_transfer:
            return e.transfer("emergency")
        return e.ask("ask_when", "when")
    return e.ask_text(s.last_prompt or "", "emergency_choice")


def emergency_offer(e: Engine) -> list[Action]:
    s = e.state
    allow = e.business.allow_emergency_transfer and not e.is_sms
    if not s.last_offer:
        if allow:
            return [e.say("emergency_none"), *e.transfer("emergency")]
        s.intent, s.phase = "message", Phase.MESSAGE
        return e.ask("ask_message", "message", before=[e.say("emergency_none")])
    first = s.offered[s.last_offer[0]]
    s.last_offer = [first.id]
    transfer = e.line("emergency_transfer_option") if allow else ""
    return e.ask("emergency_offer", "emergency_choice", when=first.label, transfer=transfer)
