"""The rules brain: offline and deterministic. One caller turn, read once into a `Reading`, goes through the same
steps whatever was asked:

1. the rules that always hold: attempts on other people's bookings are refused, a gas smell gets the safety line;
2. what the caller volunteered is kept (a name introduced, a number, an address, a time, the problem);
3. the ways out are always open: a person, goodbye;
4. questions about the business are answered, and the conversation goes on;
5. a request that changes what the caller wants (move, cancel, "when is my appointment", a message, an
   emergency) switches flow; otherwise the handler for the question asked takes the answer;
6. nothing understood: the repair ladder (ask again differently, then offer a message or a transfer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import (
    answers,
    booking,
    closing,
    details,
    emergency,
    existing,
    messages,
    owner,
    readback,
    repair,
    requests,
    times,
)
from silentpartner.conversation.states import Flow, State
from silentpartner.phones import try_e164

Handler = Callable[[Capabilities, Reading], list[Action] | None]

# The handler for the answer to each question; None from a handler means "this does not answer it".
HANDLERS: dict[State, Handler] = {
    State.GREETING: closing.on_need,
    State.NEED: closing.on_need,
    State.ANYTHING_ELSE: closing.on_anything_else,
    State.PROBLEM: details.on_problem,
    State.NAME: details.on_name,
    State.PHONE_CONFIRM: details.on_phone_confirm,
    State.PHONE: details.on_phone,
    State.ADDRESS: details.on_address,
    State.WHEN: times.on_when,
    State.WHEN_WHICH: times.on_when_which,
    State.SLOT_CHOICE: times.on_slot_choice,
    State.CONFIRM: readback.on_confirm,
    State.CHANGE: readback.on_change,
    State.EMERGENCY_OFFER: emergency.on_offer,
    State.WHICH_BOOKING: existing.on_which_booking,
    State.OFFER_BOOK: existing.on_offer_book,
    State.MESSAGE: messages.on_message,
    State.MESSAGE_OFFER: messages.on_message_offer,
    State.WAY_OUT: repair.on_way_out,
    State.TRANSFERRED: closing.on_anything_else,
}


class RulesBrain:
    """Entry points the machine calls."""

    def start(self, c: Capabilities) -> list[Action]:
        return c.greeting()

    def keys(self, c: Capabilities, digits: str) -> list[Action]:
        m = c.memory
        digits = digits.strip("#*")
        if m.state in (State.PHONE, State.PHONE_CONFIRM):
            number = try_e164(digits) if len(digits) >= 10 else None
            if number:
                return details.phone_set(c, number)
            return repair.miss(c)
        if m.state == State.SLOT_CHOICE and digits.isdigit() and 1 <= int(digits) <= len(m.last_offer):
            return [c.choose(m.last_offer[int(digits) - 1])]
        if m.state == State.CONFIRM and digits in ("1", "2"):
            m.readback_yes = digits == "1"
            return self.said(c, c.read("yes" if digits == "1" else "no"))
        return self.said(c, c.read(digits))

    def said(self, c: Capabilities, r: Reading) -> list[Action]:
        m = c.memory
        m.last_heard = r.text
        if m.runs_the_day:
            return owner.said(c, r)
        if r.attack or (r.claims_owner and not m.is_owner):
            return answers.refuse(c, "refuse_owner" if r.claims_owner else "refuse_rules")
        if r.has(Intent.GAS):
            return emergency.report_gas(c, r)
        requests.keep_volunteered(c, r)
        if (r.has(Intent.PERSON) or r.asks_for_owner) and m.state not in (State.MESSAGE, State.WAY_OUT):
            return c.transfer()
        if closing.wants_to_leave(c, r):
            return closing.goodbye(c)
        if r.has(Intent.REPEAT, Intent.WAIT) and not _answers_anything(r):
            return closing.hold_or_repeat(c, r)
        before = answers.answer_questions(c, r)
        out = requests.switch(c, r)
        if out is None:
            handler = HANDLERS.get(m.state)
            out = handler(c, r) if handler is not None else None
        if out is None:
            out = requests.start(c, r)
        if out is None and before:
            out = repair.ask_again(c)  # their question was the point of the turn: not a miss
        if out is None:
            out = closing.small_talk(c, r)
        if out is None:
            out = repair.miss(c)
        return [*before, *out]

    def after_tool(self, c: Capabilities, name: str, purpose: str, result: dict[str, Any]) -> list[Action]:
        m = c.memory
        if m.runs_the_day:
            return owner.after_tool(c, name, purpose, result)
        if name == "find_slots":
            if purpose == "emergency":
                return emergency.offer(c)
            exact = times.exact_hit(c, result)
            if exact is not None:
                return [c.choose(exact)]  # the very time they asked for is free: hold it and read it back
            return times.offer(c, nearest=bool(result.get("nearest")))
        if result.get("unavailable"):
            return times.offer(c, nearest=False, taken=True)
        if result.get("refused"):
            return answers.refuse(c, "refuse_rules")
        if name == "hold_slot":
            return booking.next_step(c) if m.flow != Flow.RESCHEDULE else c.readback()
        if name in ("book", "reschedule", "cancel"):
            return booking.done(c, name, result["booking"])
        if name == "my_bookings":
            return existing.bookings_loaded(c)
        return []


def _answers_anything(r: Reading) -> bool:
    return bool(r.name or r.phone or r.address or r.says_a_time or r.slot or r.yes or r.no or r.problem)
