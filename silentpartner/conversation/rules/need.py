"""Understanding what the caller needs and routing it to a flow; what to do when nothing matched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action, EndOfTurn
from silentpartner.conversation.intents import is_done, is_greeting_only
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.rules.booking import start_booking, start_emergency
from silentpartner.conversation.rules.existing import start_lookup
from silentpartner.conversation.rules.questions import answer
from silentpartner.conversation.spoken.names import extract_name
from silentpartner.conversation.spoken.yes_no import is_no, is_yes

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def need(e: Engine, text: str, kinds: list[str]) -> list[Action]:
    s = e.state
    mid_flow = s.awaiting not in (None, "need", "anything_else", "offer_book", "message_offer")
    for kind in kinds:
        if kind in ("hours", "price", "area", "services"):
            return answer(e, kind, text)
        if mid_flow and kind == "book":
            continue  # mid-booking, words like "sink" are part of the answer, not a new request
        if kind == "emergency":
            return start_emergency(e, text)
        if kind in ("reschedule", "cancel", "lookup"):
            return start_lookup(e, kind, text)
        if kind == "message":
            s.intent, s.phase = "message", Phase.MESSAGE
            return e.ask("ask_message", "message")
        if kind == "book":
            return start_booking(e, text)
    if mid_flow:
        return [e.say("didnt_get", prompt=s.last_prompt or ""), EndOfTurn()]
    if (is_done(text) or is_no(text)) and not kinds:
        return e.goodbye()
    if is_greeting_only(text):
        return e.ask("greet_sms" if e.is_sms else "hello_again", "need")
    if not s.details.name and re.search(r"\b(my name|name'?s|this is|it'?s|i'?m)\b", text, re.I):
        name = extract_name(text)
        if name:  # "Hi, this is John" before saying what they need
            s.details.name = name
            return e.ask_text(f"Hi {name.split()[0]}, how can I help you today?", "need")
    s.strays += 1
    if s.strays >= 3:  # still lost after a few tries: offer the owner instead of going round in circles
        s.strays = 0
        return e.ask_text(
            f"I might not be the best help here. Would you like me to take a message for {e.owner_name}?",
            "message_offer",
        )
    return e.ask("off_topic", "need")


def on_anything_else(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    if is_done(text) or (is_no(text) and not kinds):
        return e.goodbye()
    if is_yes(text) and not kinds:
        return e.ask_text("Sure, what can I do for you?", "need")
    return None
