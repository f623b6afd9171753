"""The caller's details for a booking or a message: the problem, name, callback number, address."""

from __future__ import annotations

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import booking, messages
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.wording import clean_note

_QUESTIONS = (Intent.PRICE, Intent.HOURS, Intent.AREA, Intent.SERVICES, Intent.ROBOT)


def on_problem(c: Capabilities, r: Reading) -> list[Action] | None:
    d = c.memory.details
    if r.name and not r.problem and not r.intents:
        # they answered with their name: it is kept (see requests.keep_volunteered); ask about the problem again
        d.name = d.name or r.name
        return c.ask(State.PROBLEM, text=f"Thanks, {r.name.split()[0]}. And what seems to be the problem?")
    if r.problem:
        d.problem = r.problem
        return booking.next_step(c)
    if r.has(Intent.UNSURE):
        d.problem = "Not sure what's wrong; needs a look"
        return booking.next_step(c)
    if r.address or r.phone or r.says_a_time:
        # a detail for later, kept (requests.keep_volunteered); the problem is still the question
        return c.ask(State.PROBLEM, text="Thanks, I've noted that. And what seems to be the problem?")
    if r.has(*_QUESTIONS) or r.faq or r.intents or r.yes or r.no or len(r.plain.split()) < 3:
        return None
    d.problem = clean_note(r.text)  # a description in words the lexicon doesn't know is still the problem
    return booking.next_step(c)


def on_name(c: Capabilities, r: Reading) -> list[Action] | None:
    if not r.name:
        return None
    c.memory.details.name = r.name
    if c.memory.flow == Flow.MESSAGE:
        return messages.finish(c)
    return booking.next_step(c)


def phone_set(c: Capabilities, number: str) -> list[Action]:
    d = c.memory.details
    d.phone, d.phone_confirmed = number, True
    if c.memory.flow == Flow.MESSAGE:
        return messages.finish(c)
    return booking.next_step(c)


def on_phone_confirm(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.phone:
        return phone_set(c, r.phone)
    if r.yes:
        c.memory.details.phone_confirmed = True
        if c.memory.flow == Flow.MESSAGE:
            return messages.finish(c)
        return booking.next_step(c)
    if r.no:
        return c.ask(State.PHONE, "ask_phone_sms" if c.is_sms else "ask_phone")
    return None


def on_phone(c: Capabilities, r: Reading) -> list[Action] | None:
    if r.phone:
        return phone_set(c, r.phone)
    return None


def on_address(c: Capabilities, r: Reading) -> list[Action] | None:
    if not r.address:
        return None
    c.memory.details.address = r.address
    return booking.next_step(c)
