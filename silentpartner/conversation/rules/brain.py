"""The rules brain: offline, deterministic. Keyword intents, server-side time understanding, number and
name parsing, templated replies. It drives every flow (book, emergency, reschedule, cancel, "when is my
appointment", questions, messages, transfer, the owner's schedule) through the engine's guarded
capabilities, so it obeys the same guards a chat model does.

This module is the dispatcher; each phase of the conversation has its own module in this package.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from silentpartner.conversation import guards
from silentpartner.conversation.events import Action
from silentpartner.conversation.intents import intents
from silentpartner.conversation.rules.booking import next_step
from silentpartner.conversation.rules.details import (
    on_address,
    on_name,
    on_phone,
    on_phone_confirm,
    on_problem,
    phone_set,
)
from silentpartner.conversation.rules.emergency import emergency_offer, on_emergency_choice, report_gas
from silentpartner.conversation.rules.existing import bookings_loaded, on_offer_book, on_which_booking
from silentpartner.conversation.rules.messages import on_message, on_message_offer
from silentpartner.conversation.rules.need import need, on_anything_else
from silentpartner.conversation.rules.owner import owner_schedule
from silentpartner.conversation.rules.questions import refuse
from silentpartner.conversation.rules.readback import on_change, on_name_fix, on_readback
from silentpartner.conversation.rules.times import offer, on_ambiguous, on_slot_choice, on_when
from silentpartner.conversation.spoken.emails import extract_email
from silentpartner.conversation.when_adapter import understand
from silentpartner.phones import last_four, try_e164

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


_SCHEDULE = re.compile(r"\b(schedule|jobs?|appointments?|bookings?|booked|calendar)\b", re.I)


def _asks_for_owner(e: Engine, text: str) -> bool:
    """ "Can I talk to Mike?" with the owner's own name."""
    name = re.escape(e.owner_name.lower())
    return bool(re.search(rf"\b(talk|speak) (to|with) {name}\b", text.lower()))


# What the caller's words answer, by the question they were asked (`state.awaiting`); a handler returning
# None (or no handler) means the words are read afresh as a need.
_HANDLERS: dict[str, Callable[[Engine, str, list[str]], list[Action] | None]] = {
    "address": on_address,
    "ambiguous": on_ambiguous,
    "anything_else": on_anything_else,
    "change": on_change,
    "emergency_choice": on_emergency_choice,
    "message": on_message,
    "message_offer": on_message_offer,
    "name": on_name,
    "name_fix": on_name_fix,
    "offer_book": on_offer_book,
    "phone": on_phone,
    "phone_confirm": on_phone_confirm,
    "problem": on_problem,
    "readback": on_readback,
    "slot_choice": on_slot_choice,
    "when": on_when,
    "which_booking": on_which_booking,
}


class RulesBrain:
    """Entry points the engine calls; each turn goes to the handler for the question the caller is answering."""

    def start(self, e: Engine) -> list[Action]:
        return e.greeting()

    def keys(self, e: Engine, digits: str) -> list[Action]:
        s = e.state
        digits = digits.strip("#*")
        if s.awaiting in ("phone", "phone_confirm"):
            number = try_e164(digits)
            if number:
                return phone_set(e, number)
            return e.ask("phone_again", "phone")
        if s.awaiting == "slot_choice" and digits.isdigit() and 1 <= int(digits) <= len(s.last_offer):
            return [e.choose(s.last_offer[int(digits) - 1])]
        if s.awaiting in ("readback", "cancel_confirm") and digits in ("1", "2"):
            return self.said(e, "yes" if digits == "1" else "no")
        return self.said(e, digits)

    def said(self, e: Engine, text: str) -> list[Action]:
        s = e.state
        kinds = intents(text)
        if guards.is_rule_attack(text):
            return refuse(e, "refuse_owner" if guards.claims_to_be_owner(text) else "refuse_rules")
        if guards.claims_to_be_owner(text) and not s.is_owner:
            return refuse(e, "refuse_owner")
        if s.is_owner and _SCHEDULE.search(text):
            window = understand(e, text)
            day = datetime.fromisoformat(window["start"]) if window.get("kind") == "window" else None
            return [e.owner_schedule(day)]
        email = extract_email(text)
        if email:  # only ever kept when the caller offers it
            s.details.email = email
        if "gas" in kinds:
            return report_gas(e, text)
        if ("person" in kinds or _asks_for_owner(e, text)) and s.awaiting != "message":
            return e.transfer()
        handler = _HANDLERS.get(s.awaiting) if s.awaiting else None
        if handler is not None:
            out = handler(e, text, kinds)
            if out is not None:
                return out
        return need(e, text, kinds)

    def after_tool(self, e: Engine, name: str, purpose: str, result: dict[str, Any]) -> list[Action]:
        s = e.state
        if name == "find_slots":
            if purpose == "emergency":
                return emergency_offer(e)
            return offer(e, s.last_offer, nearest=bool(result.get("nearest")))
        if result.get("unavailable"):
            return offer(e, s.last_offer, nearest=False, prefix=e.line("slot_taken", rest="").strip())
        if result.get("refused"):
            return refuse(e, "refuse_rules")
        if name == "hold_slot":
            return next_step(e) if s.intent != "reschedule" else e.readback()
        if name == "book":
            booking = result["booking"]
            when = e.label(booking["start"])
            booked = e.say(
                "booked",
                interruptible=False,
                what=e.with_article(booking["service"]),
                when=when,
                last4=last_four(booking.get("phone") or ""),
            )
            return e.ask("anything_else", "anything_else", before=[booked])
        if name == "reschedule":
            booking = result["booking"]
            line = e.say(
                "rescheduled",
                interruptible=False,
                what=e.service_name(booking["service"]),
                when=e.label(booking["start"]),
            )
            return e.ask("anything_else", "anything_else", before=[line])
        if name == "cancel":
            booking = result["booking"]
            line = e.say(
                "cancelled",
                interruptible=False,
                what=e.service_name(booking["service"]),
                when=e.label(booking["start"]),
            )
            return e.ask("anything_else", "anything_else", before=[line])
        if name == "my_bookings":
            return bookings_loaded(e)
        if name == "owner_schedule":
            return owner_schedule(e, result.get("bookings", []), result.get("day"))
        return []
