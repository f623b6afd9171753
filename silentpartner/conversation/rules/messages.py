"""Taking a message for the owner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.spoken.yes_no import is_no, is_yes

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def on_message(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    s.message = text.strip()
    s.intent = "message"
    if not s.details.name:
        return e.ask("ask_name", "name")
    return finish_message(e)


def finish_message(e: Engine) -> list[Action]:
    s = e.state
    if not s.details.phone:
        return e.ask("ask_phone", "phone")
    actions = e.take_message(s.message or "")
    s.intent = None
    return e.ask("anything_else", "anything_else", before=[*actions, e.say("message_taken")])


def on_message_offer(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    if is_yes(text):
        e.state.intent, e.state.phase = "message", Phase.MESSAGE
        return e.ask("ask_message", "message")
    if is_no(text):
        return e.ask("anything_else", "anything_else", before=[e.say("ok")])
    return None
