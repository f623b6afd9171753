"""The conversation's states and the table that governs them (h11's `_state.py` is the model).

A state says what the receptionist is waiting for from the caller. Each row of `TABLE` says:
- `expect`: the kind of answer the question invites (turn-taking waits longer for a phone number than for a yes);
- `tools`: the only tools a chat model may call in that state (the guards refuse any other);
- `next`: the states the conversation may move to from here, besides `ANYWHERE` (the caller leads: at any turn
  they may start or switch a request, ask a question, ask for a person or say goodbye).

`Flow` is what the caller is trying to get done; it is data beside the state, not a second state machine.
Moving outside the table is a bug, raised as `IllegalTransition` (the driver turns any such failure into a
spoken apology and a message for the owner, never a dead line).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from silentpartner.conversation.events import Expect


class State(StrEnum):
    GREETING = "greeting"  # the greeting was said; nothing heard yet
    NEED = "need"  # "how can I help?"
    PROBLEM = "problem"  # "what seems to be the problem?"
    NAME = "name"
    PHONE_CONFIRM = "phone_confirm"  # "is the number ending in 0123 the best one?"
    PHONE = "phone"
    ADDRESS = "address"
    WHEN = "when"  # "when would suit you?"
    WHEN_WHICH = "when_which"  # "this Friday or next?"
    SLOT_CHOICE = "slot_choice"  # times were offered
    CONFIRM = "confirm"  # a read-back (book, move or cancel) waits for an explicit yes
    CHANGE = "change"  # "what would you like to change?"
    EMERGENCY_OFFER = "emergency_offer"  # the earliest emergency slot (or a transfer) was offered
    WHICH_BOOKING = "which_booking"  # the caller has several bookings: which one?
    OFFER_BOOK = "offer_book"  # "no appointments under this number; book one?"
    MESSAGE = "message"  # "what should I tell Mike?"
    MESSAGE_OFFER = "message_offer"  # "shall I take a message?"
    WAY_OUT = "way_out"  # after two misunderstandings: a message or a transfer?
    ANYTHING_ELSE = "anything_else"
    OWNER = "owner"  # the owner (or a team member) running their day: "what's on Thursday?"
    OWNER_PIN = "owner_pin"  # by phone, the owner's PIN first (caller ID can be spoofed)
    TRANSFERRED = "transferred"
    DONE = "done"


class Flow(StrEnum):
    """What the caller is trying to get done."""

    NONE = "none"
    BOOK = "book"
    EMERGENCY = "emergency"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    LOOKUP = "lookup"
    MESSAGE = "message"
    OWNER = "owner"


class IllegalTransition(Exception):
    """The code tried to move the conversation along an edge the table does not have."""


@dataclass(frozen=True)
class Row:
    expect: Expect
    tools: tuple[str, ...]
    next: frozenset[State]


S = State
_ALWAYS_TOOLS = ("business_info", "take_message", "transfer_to_owner", "end_call")
_ENTRY_TOOLS = ("start_booking", "report_emergency", "my_appointments", *_ALWAYS_TOOLS)
_DETAIL_TOOLS = ("save_details", "find_slots", "choose_slot", *_ALWAYS_TOOLS)

# Where the caller may take the conversation from any state: start or switch a request, a way out, the end.
ANYWHERE = frozenset(
    {
        S.NEED,
        S.PROBLEM,
        S.NAME,
        S.PHONE_CONFIRM,
        S.PHONE,
        S.ADDRESS,
        S.WHEN,
        S.WHEN_WHICH,
        S.EMERGENCY_OFFER,
        S.WHICH_BOOKING,
        S.OFFER_BOOK,
        S.MESSAGE,
        S.MESSAGE_OFFER,
        S.WAY_OUT,
        S.ANYTHING_ELSE,
        S.TRANSFERRED,
        S.DONE,
    }
)

# A read-back follows a chosen slot (book or move) or a named booking (cancel); an offer follows a search.
_AFTER_SEARCH = frozenset({S.SLOT_CHOICE, S.EMERGENCY_OFFER, S.CONFIRM})

TABLE: dict[State, Row] = {
    S.GREETING: Row("open", _ENTRY_TOOLS, frozenset({S.OWNER, S.OWNER_PIN, S.SLOT_CHOICE, S.CONFIRM})),
    S.NEED: Row("open", _ENTRY_TOOLS, frozenset({S.OWNER, S.SLOT_CHOICE, S.CONFIRM})),
    S.PROBLEM: Row("open", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.NAME: Row("name", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.PHONE_CONFIRM: Row("yes_no", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.PHONE: Row("phone", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.ADDRESS: Row("address", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.WHEN: Row("time", (*_DETAIL_TOOLS, "my_appointments"), _AFTER_SEARCH | {S.OWNER}),
    S.WHEN_WHICH: Row("choice", _DETAIL_TOOLS, _AFTER_SEARCH),
    S.SLOT_CHOICE: Row("choice", (*_DETAIL_TOOLS, "reschedule_booking"), _AFTER_SEARCH | {S.OWNER}),
    S.CONFIRM: Row(
        "yes_no",
        ("save_details", "find_slots", "choose_slot", "book", "reschedule_booking", "cancel_booking", *_ALWAYS_TOOLS),
        frozenset({S.CHANGE, S.SLOT_CHOICE, S.CONFIRM, S.OWNER}),
    ),
    S.CHANGE: Row("open", _DETAIL_TOOLS, frozenset({S.CONFIRM, S.SLOT_CHOICE})),
    S.EMERGENCY_OFFER: Row("yes_no", (*_DETAIL_TOOLS, "book"), frozenset({S.CONFIRM, S.SLOT_CHOICE})),
    S.WHICH_BOOKING: Row("choice", ("my_appointments", "find_slots", "cancel_booking", *_ALWAYS_TOOLS), _AFTER_SEARCH),
    S.OFFER_BOOK: Row("yes_no", _ENTRY_TOOLS, frozenset({S.SLOT_CHOICE})),
    S.MESSAGE: Row("open", ("save_details", *_ALWAYS_TOOLS), frozenset()),
    S.MESSAGE_OFFER: Row("yes_no", ("save_details", *_ALWAYS_TOOLS), frozenset()),
    S.WAY_OUT: Row("open", ("save_details", *_ALWAYS_TOOLS), _AFTER_SEARCH),
    S.ANYTHING_ELSE: Row("open", _ENTRY_TOOLS, frozenset({S.OWNER, S.SLOT_CHOICE, S.CONFIRM})),
    S.OWNER: Row("open", ("owner_schedule", *_ALWAYS_TOOLS), frozenset({S.OWNER, S.SLOT_CHOICE, S.CONFIRM})),
    S.OWNER_PIN: Row("phone", (), frozenset({S.OWNER})),
    S.TRANSFERRED: Row("open", _ALWAYS_TOOLS, frozenset({S.ANYTHING_ELSE, S.DONE})),
    S.DONE: Row("open", (), frozenset()),
}

# Once transferred or done on a call there is no way back; a text thread may carry on after a transfer.
_TERMINAL = frozenset({S.DONE})


def check_move(current: State, new: State, *, flow: Flow | None = None) -> None:
    """Raise IllegalTransition unless the table allows current -> new."""
    if current in _TERMINAL:
        raise IllegalTransition(f"the conversation is over ({current}); cannot move to {new}")
    if new == current or new in ANYWHERE or new in TABLE[current].next:
        return
    raise IllegalTransition(f"{current} -> {new} is not in the conversation table (flow {flow})")


def expects(state: State) -> Expect:
    return TABLE[state].expect


def tools_for(state: State) -> tuple[str, ...]:
    return TABLE[state].tools
