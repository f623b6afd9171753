"""Collecting the caller's details for a booking or message: the problem, name, phone number, address."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action, EndOfTurn
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.intents import describes_problem
from silentpartner.conversation.rules.booking import absorb_details, next_step
from silentpartner.conversation.rules.messages import finish_message
from silentpartner.conversation.spoken.addresses import extract_address
from silentpartner.conversation.spoken.names import extract_name
from silentpartner.conversation.spoken.phone_numbers import parse_phone_number
from silentpartner.conversation.spoken.yes_no import is_no, is_yes
from silentpartner.conversation.when_adapter import understand

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def on_problem(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    if any(k in kinds for k in ("hours", "price", "area", "services")):
        return None
    name = _person_name(text) if not describes_problem(text) and len(text.split()) <= 3 else None
    if name and not e.state.details.name:  # they answered with their name: keep it, ask again
        e.state.details.name = name
        return e.ask_text(f"Thanks, {name.split()[0]}. And what seems to be the problem?", "problem")
    e.state.details.problem = text.strip()
    absorb_details(e, text)
    window = understand(e, text)
    if window.get("kind") == "window":
        e.state.window = window
    return next_step(e)


def on_name(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    switching = any(k in kinds for k in ("message", "cancel", "reschedule", "lookup", "emergency"))
    name = None if switching else _person_name(text)
    if not name:
        if kinds:
            return None
        return e.ask("ask_name_again", "name")
    e.state.details.name = name
    if e.state.intent == "message":
        return finish_message(e)
    return next_step(e)


def phone_set(e: Engine, number: str) -> list[Action]:
    d = e.state.details
    d.phone, d.phone_confirmed = number, True
    if e.state.intent == "message":
        return finish_message(e)
    return next_step(e)


def on_phone_confirm(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    number = parse_phone_number(text)
    if number:
        return phone_set(e, number)
    if is_yes(text):
        e.state.details.phone_confirmed = True
        return next_step(e)
    if is_no(text):
        return e.ask("ask_phone", "phone")
    return [SayAction(e.line("yes_or_no")), EndOfTurn()] if not kinds else None


def on_phone(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    number = parse_phone_number(text)
    if number:
        return phone_set(e, number)
    if kinds:
        return None
    return e.ask("phone_again", "phone")


def on_address(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    address = extract_address(text)
    if not address and re.search(r"\d", text) and len(text.split()) >= 2:
        address = text.strip().rstrip(".")
    if not address:
        return None if kinds else [SayAction(e.line("didnt_get", prompt=e.state.last_prompt or "")), EndOfTurn()]
    e.state.details.address = address
    return next_step(e)


_NOT_A_NAME = frozenset({"actually", "well", "okay", "ok", "so", "um", "uh", "hmm", "sorry", "yeah", "hello", "hi"})


def _person_name(text: str) -> str | None:
    """`extract_name`, minus the fillers a caller starts a sentence with ("Actually, ...")."""
    name = extract_name(text)
    if name and name.split()[0].lower() in _NOT_A_NAME:
        return None
    return name
