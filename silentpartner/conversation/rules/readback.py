"""The read-back before booking, rescheduling or cancelling: yes goes ahead, anything else fixes just the
part the caller corrected.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from silentpartner.conversation import guards
from silentpartner.conversation.events import Action, EndOfTurn
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.rules.questions import refuse
from silentpartner.conversation.rules.times import on_when
from silentpartner.conversation.spoken.addresses import extract_address
from silentpartner.conversation.spoken.names import extract_name
from silentpartner.conversation.spoken.phone_numbers import parse_phone_number
from silentpartner.conversation.spoken.yes_no import is_no
from silentpartner.conversation.when_adapter import understand

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def on_readback(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    if s.readback_yes:
        try:
            if s.intent == "reschedule" and s.target_uid:
                return [e.reschedule(s.target_uid)]
            if s.intent == "cancel" and s.target_uid:
                return [e.cancel(s.target_uid)]
            s.phase = Phase.BOOK
            return [e.book()]
        except guards.Refused as refused:
            return refuse(e, refused.say_key)
    if s.intent == "cancel":
        if is_no(text):
            s.readback_for = None
            return e.ask("anything_else", "anything_else", before=[e.say("kept")])
        return [SayAction(e.line("yes_or_no")), EndOfTurn()]
    correction = correct(e, text)
    if correction is not None:
        return correction
    if is_no(text):
        return e.ask("what_change", "change")
    return [SayAction(e.line("yes_or_no")), EndOfTurn()]


def on_change(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    correction = correct(e, text)
    if correction is not None:
        return correction
    return e.ask("what_change", "change")


def correct(e: Engine, text: str) -> list[Action] | None:
    """ "No, Thursday" / "no, the name is Jon Smyth" / "it's 45 Oak Street": fix just that part."""
    s = e.state
    d = s.details
    window = understand(e, text)
    if window.get("kind") == "window":
        s.chosen = None  # search() releases the old hold
        if s.intent == "reschedule":
            return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
        s.window = window
        return [e.search(window, purpose="offer")]
    address = extract_address(text)
    if address and address != d.address:
        d.address = address
        return e.readback()
    number = parse_phone_number(text)
    if number and number != d.phone:
        d.phone, d.phone_confirmed = number, True
        return e.readback()
    if re.search(r"\b(name|spell|spelled)\b", text, re.I):
        name = extract_name(re.sub(r"^\s*(no|nope)[,.!]?\s*", "", text, flags=re.I))
        if name and name != d.name:
            d.name = name
            return e.readback()
        return e.ask("ask_name_again", "name_fix")
    if window.get("kind") in ("ambiguous", "past"):
        return on_when(e, text, [])
    return None


def on_name_fix(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    name = extract_name(text)
    if not name:
        return e.ask("ask_name_again", "name_fix")
    e.state.details.name = name
    return e.readback()
