"""The repair ladder: a question that fails is asked again differently (with an example); one that fails twice
gives way to an offer of a message or a transfer; and that offer never loops: if it fails too, the caller's
number and whatever they said go to the owner and the call ends politely."""

from __future__ import annotations

import re
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.states import Flow, State

# States whose question has a way to ask it again differently; any other asks its own question again.
_REASK = {
    State.GREETING: "reask_need",
    State.NEED: "reask_need",
    State.PROBLEM: "reask_problem",
    State.NAME: "reask_name",
    State.PHONE_CONFIRM: "reask_phone_confirm",
    State.PHONE: "reask_phone",
    State.ADDRESS: "reask_address",
    State.WHEN: "reask_when",
    State.WHEN_WHICH: "reask_when_which",
    State.SLOT_CHOICE: "reask_slot_choice",
    State.CONFIRM: "reask_confirm",
    State.CHANGE: "reask_change",
    State.EMERGENCY_OFFER: "reask_emergency_offer",
    State.WHICH_BOOKING: "reask_which_booking",
    State.OFFER_BOOK: "reask_offer_book",
    State.MESSAGE: "reask_message",
    State.MESSAGE_OFFER: "reask_message_offer",
    State.ANYTHING_ELSE: "reask_anything_else",
    State.TRANSFERRED: "reask_anything_else",
    State.OWNER: "reask_anything_else",
}

_TRY_AGAIN = re.compile(r"\b(try again|let us try|keep going|carry on|go on|start over|one more time)\b")
_MESSAGE_WORDS = re.compile(r"\b(message|call me|call back|ring me|text me|get back)\b")
_TRANSFER_WORDS = re.compile(r"\b(put me through|through|transfer|talk to|speak to|speak with|connect)\b")


def miss(c: Capabilities) -> list[Action]:
    """The caller's words didn't answer the question: ask differently the first time, then offer a way out."""
    m = c.memory
    state = m.state
    if m.last_heard:
        m.misheard = [*m.misheard, m.last_heard][-3:]
    if state == State.WAY_OUT:
        return give_up(c)
    count = m.misses[state.value] = m.misses.get(state.value, 0) + 1
    if count >= 2:
        return way_out(c)
    key = _REASK.get(state)
    if key is None:
        return ask_again(c)
    if state == State.CONFIRM and m.flow == Flow.CANCEL:
        key = "reask_cancel_confirm"
    if state == State.PHONE and c.is_sms:
        key = "reask_phone_sms"
    return c.ask(state, key, **_values(c, state))


def ask_again(c: Capabilities) -> list[Action]:
    """The question the caller is in the middle of, asked again (after answering their own question)."""
    m = c.memory
    if m.state in (State.GREETING, State.NEED) and m.flow == Flow.NONE:
        return c.ask(State.NEED, "ask_need")
    if m.state in (State.GREETING, State.NEED, State.ANYTHING_ELSE, State.TRANSFERRED):
        return c.ask(State.ANYTHING_ELSE, "then_anything")
    return c.ask(m.state, text=m.last_prompt)


def _values(c: Capabilities, state: State) -> dict[str, Any]:
    m = c.memory
    if state == State.PHONE_CONFIRM:
        return {"last4": c.last4(m.details.phone)}
    if state == State.PHONE and c.is_sms:
        return {}
    if state == State.WHEN_WHICH:
        return {"question": m.ambiguous.question if m.ambiguous else m.last_prompt}
    if state == State.SLOT_CHOICE:
        return {"options": c.options_text(m.last_offer)}
    if state == State.EMERGENCY_OFFER and m.last_offer:
        transfer = c.line("emergency_transfer_option") if c.business.allow_emergency_transfer and not c.is_sms else ""
        return {"when": m.offered[m.last_offer[0]].label, "transfer": transfer}
    if state == State.WHICH_BOOKING:
        return {"list": " or ".join(f"{c.with_article(b.service)} {b.label}" for b in m.bookings)}
    return {}


def way_out(c: Capabilities) -> list[Action]:
    """Two misses on one question: stop asking it, and offer a message or a transfer instead."""
    m = c.memory
    m.way_out_from = m.state
    number = m.details.phone or m.caller
    if c.is_sms:
        m.message = m.message or _what_we_know(c)
        return c.ask(State.MESSAGE_OFFER, "way_out_sms")
    if not number:
        return c.ask(State.WAY_OUT, "way_out_no_number")
    if not c.business.allow_emergency_transfer and not c.business.owner_mobile:
        return c.ask(State.WAY_OUT, "way_out_no_transfer", last4=c.last4(number))
    return c.ask(State.WAY_OUT, "way_out", last4=c.last4(number))


def on_way_out(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if r.has(Intent.PERSON) or r.asks_for_owner or _TRANSFER_WORDS.search(r.plain):
        return c.transfer("the caller couldn't be understood")
    if r.has(Intent.MESSAGE) or _MESSAGE_WORDS.search(r.plain) or r.yes:
        m.flow = Flow.MESSAGE
        if m.message or m.details.problem:
            return _send_and_close(c)
        return c.ask(State.MESSAGE, "ask_message")
    carried_on = bool(r.when or r.address or r.phone or r.name)  # "could you do Thursday after 3": still booking
    if (_TRY_AGAIN.search(r.plain) or carried_on) and m.way_out_from is not None:
        state, m.way_out_from = m.way_out_from, None
        m.misses[state.value] = 1  # one more miss and the way out comes back
        key = _REASK.get(state, "reask_need")
        return c.ask(state, key, before=[c.say("try_again")], **_values(c, state))
    if r.no:  # neither: whatever they said goes to the owner, who calls back
        return _send_and_close(c)
    return None


def give_up(c: Capabilities) -> list[Action]:
    """The way out did not land either: send the owner what we have, tell the caller, end the call politely."""
    return _send_and_close(c)


def _send_and_close(c: Capabilities) -> list[Action]:
    m = c.memory
    number = m.details.phone or m.caller
    text = m.message or _what_we_know(c)
    actions = c.take_message(f"Please call back: {text}") if number else []
    if not number:
        return c.transfer("the caller couldn't be understood and has no number")
    return [*actions, *c.goodbye("way_out_final")] if not c.is_sms else [*actions, *c.goodbye()]


def _what_we_know(c: Capabilities) -> str:
    d = c.memory.details
    parts = []
    if d.problem:
        parts.append(d.problem.rstrip("."))
    if d.address:
        parts.append(f"at {d.address}")
    if not parts and c.memory.misheard:
        parts.append("they said: " + "; ".join(f'"{t}"' for t in c.memory.misheard))
    return ("; ".join(parts) or "they called but couldn't be understood") + "."
