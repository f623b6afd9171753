"""The open questions ("how can I help?", "anything else?"), the small talk that is not an answer ("hang on",
"sorry, what?", "thanks"), and leaving: "bye", "never mind", "I'll call back" end the call politely at any
point."""

from __future__ import annotations

import re

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, EndOfTurn, Say
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import messages
from silentpartner.conversation.states import Flow, State, expects

_REQUESTS = (
    Intent.BOOK,
    Intent.RESCHEDULE,
    Intent.CANCEL,
    Intent.LOOKUP,
    Intent.MESSAGE,
    Intent.PERSON,
    Intent.PRICE,
    Intent.HOURS,
    Intent.AREA,
    Intent.SERVICES,
    Intent.ROBOT,
)
_CALLING_IT_OFF = re.compile(r"\b(never ?mind|forget (it|about it|that)|do not worry about it|i changed my mind)\b")
_YES_NO_STATES = frozenset(s for s in State if expects(s) == "yes_no")


def wants_to_leave(c: Capabilities, r: Reading) -> bool:
    """ "Bye", "never mind", "I'll call back", "that's all": the caller is done, whatever was asked. A plain
    "no thanks" to a question that is not a yes/no question is the same."""
    declined = r.no and r.has(Intent.THANKS) and not (r.intents - {Intent.THANKS, Intent.GOODBYE})
    if declined and c.memory.state not in _YES_NO_STATES and c.memory.state != State.SLOT_CHOICE:
        return True
    if not r.has(Intent.GOODBYE) or r.has(*_REQUESTS) or r.problem:
        return False
    if c.memory.state in _YES_NO_STATES and r.yes:
        return False  # "yes, that's all" answers the question
    if c.memory.state == State.MESSAGE and not _CALLING_IT_OFF.search(r.plain):
        return False  # "tell him I said thanks, bye" is the message; "never mind" is not
    return True


def goodbye(c: Capabilities) -> list[Action]:
    m = c.memory
    underway = m.flow in (Flow.BOOK, Flow.EMERGENCY, Flow.RESCHEDULE, Flow.CANCEL) and m.outcome.action in (
        "none",
        "info",
    )
    if underway and not c.is_sms:
        return c.goodbye("goodbye_midway")
    return c.goodbye()


def on_need(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if r.has(Intent.GREETING) and not r.intents.difference({Intent.GREETING, Intent.THANKS}):
        return c.ask(State.NEED, "greet_sms" if c.is_sms else "hello_again")
    if r.name and not r.intents and not r.problem and not r.says_a_time:
        m.details.name = r.name  # "Hi, this is John" before saying what they need
        return c.ask(State.NEED, "hi_name", first=r.name.split()[0])
    if r.no and not (r.intents - {Intent.THANKS, Intent.GOODBYE}) and not r.problem:
        return c.goodbye()
    return None


def on_anything_else(c: Capabilities, r: Reading) -> list[Action] | None:
    added = messages.add_to_message(c, r)
    if added is not None:
        return added
    if r.has(Intent.THANKS, Intent.GOODBYE) and not r.has(*_REQUESTS) and not r.problem:
        return c.goodbye()
    if r.no and not r.has(*_REQUESTS) and not r.problem and not r.says_a_time:
        return c.goodbye()
    if r.yes and not r.has(*_REQUESTS) and not r.problem:
        return c.ask(State.NEED, text="Sure, what can I do for you?")
    return None


def hold_or_repeat(c: Capabilities, r: Reading) -> list[Action]:
    """ "Hang on a sec" waits; "sorry, what?" hears the question again (neither is a misunderstanding)."""
    m = c.memory
    if r.has(Intent.WAIT):
        return [c.say("take_your_time"), EndOfTurn(expects(m.state))]
    if m.state == State.SLOT_CHOICE and m.last_offer:
        from silentpartner.conversation.rules.times import reoffer

        return reoffer(c)
    return [c.say("repeat", prompt=m.last_prompt), EndOfTurn(expects(m.state))]


def small_talk(c: Capabilities, r: Reading) -> list[Action] | None:
    """A thank-you or a "hello?" mid-call: answered kindly, and the question stands."""
    m = c.memory
    if r.no or r.yes:
        return None  # an answer, just not one that fits the question: the repair ladder takes it
    if r.has(Intent.THANKS) and m.last_prompt:
        return [c.say("welcome", prompt=m.last_prompt), EndOfTurn(expects(m.state))]
    if r.has(Intent.GREETING) and m.last_prompt:
        return [c.say("still_here", prompt=m.last_prompt), EndOfTurn(expects(m.state))]
    return None


__all__ = ["Say", "goodbye", "hold_or_repeat", "on_anything_else", "on_need", "small_talk", "wants_to_leave"]
