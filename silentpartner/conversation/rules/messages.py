"""Taking a message for the owner: what to tell them, who it is from and the number to call back."""

from __future__ import annotations

import re

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Outcome
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.wording import clean_note

# The request itself, which is not the message: "can you have Mike call me back", "I'd like to leave a message".
_REQUEST = re.compile(
    r"\b(?:i (?:just )?(?:need|want|would like|wanted|was hoping)(?: for)?|can you|could you|would you|please"
    r"|can i|could i|i'd like to|just)\b"
    r"|\b(?:leave|take|pass|pass on|pass along|give|get)(?: him| her)? (?:a |him a |her a )?(?:message|note)"
    r"(?: along| on)?(?: for me)?\b"
    r"|\b(?:have|ask|get|tell) (?:\w+ )?(?:to )?(?:call|ring|phone|text|get back to) (?:me|us)(?: back)?\b"
    r"|\b(?:call|ring|phone|text) me back\b|\bcall back\b|\bget back to me\b|\bgive me a (?:call|ring|buzz)\b"
    r"|\b(?:let|tell) (?:\w+) know\b|\bfor (?:\w+)\b|\bto (?:\w+)\b$",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[a-z]{3,}", re.IGNORECASE)
_FILLER_WORDS = frozenset(
    {"hi", "hello", "hey", "yeah", "yes", "please", "thanks", "thank", "you", "him", "her", "actually", "just"}
    | {"instead", "maybe", "quickly", "also", "well", "now", "okay", "quick", "really", "the", "and", "can", "could"}
)


def content_of(c: Capabilities, text: str) -> str | None:
    """What to pass on, when the request came with it ("have Mike call me about a bill" -> "about a bill")."""
    owner = re.escape(c.owner_name)
    rest = re.sub(rf"\b{owner}\b", " ", text, flags=re.IGNORECASE)
    rest = _REQUEST.sub(" ", rest)
    words = [w for w in _CONTENT.findall(rest) if w.lower() not in _FILLER_WORDS]
    if len(words) < 2:
        return None
    return clean_note(text)


def start(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    m.flow = Flow.MESSAGE
    content = content_of(c, r.text)
    if content:
        m.message = content
        return finish(c)
    return c.ask(State.MESSAGE, "ask_message")


def on_message(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if not r.plain:
        return None
    m.message = clean_note(r.text)
    m.flow = Flow.MESSAGE
    return finish(c)


def finish(c: Capabilities) -> list[Action]:
    """Once the message, a name and a number are known, send it and say so."""
    m = c.memory
    d = m.details
    if not m.message:
        return c.ask(State.MESSAGE, "ask_message")
    if not d.name:
        return c.ask(State.NAME, "ask_name")
    if not d.phone:
        return c.ask(State.PHONE, "ask_phone_sms" if c.is_sms else "ask_phone")
    actions = c.take_message(m.message)
    m.flow = Flow.NONE
    m.tell_once("message_sent")
    taken = c.say("message_taken", last4=c.last4(d.phone))
    return c.ask(State.ANYTHING_ELSE, "anything_else", before=[*actions, taken])


def add_to_message(c: Capabilities, r: Reading) -> list[Action] | None:
    """Something more said right after a message was taken ("and ask if he'd make an exception"): it goes to the
    owner too, rather than being lost."""
    m = c.memory
    if "message_sent" not in m.told or m.outcome.action != "message" or r.yes or r.no:
        return None
    if len(r.plain.split()) < 4 or r.intents - {Intent.MESSAGE, Intent.THANKS}:
        return None
    more = clean_note(r.text)
    m.message = f"{m.message} Also: {more}"
    m.outcome = Outcome(action="message", message=m.message)
    actions = c.take_message(f"(more) {more}")
    return c.ask(State.ANYTHING_ELSE, "anything_else", before=[*actions, c.say("message_added")])


def on_message_offer(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if r.yes:
        m.flow = Flow.MESSAGE
        if m.message:  # the reason a message was offered is the message ("outside the area: ...")
            return finish(c)
        return c.ask(State.MESSAGE, "ask_message")
    if r.no:
        m.message = None
        m.flow = Flow.NONE
        return c.ask(State.ANYTHING_ELSE, "anything_else", before=[c.say("ok")])
    if len(r.plain.split()) >= 4 and not r.intents:  # they went straight to the message
        m.message = clean_note(r.text)
        m.flow = Flow.MESSAGE
        return finish(c)
    return None
