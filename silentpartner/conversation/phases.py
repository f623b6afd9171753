"""The phases of a conversation and the tools each one exposes to a brain.

A brain (rules or a chat model) only ever sees the tools of the phase the conversation is in; the
engine refuses any other (see `guards.py`).
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    GREET = "greet"
    NEED = "need"  # understand what the caller wants
    DETAILS = "details"  # name, callback number, address, problem
    FIND_TIME = "find_time"
    CONFIRM = "confirm"  # read-back, waiting for an explicit yes
    BOOK = "book"
    WRAP_UP = "wrap_up"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    LOOKUP = "lookup"  # "when is my appointment"
    EMERGENCY = "emergency"
    QUESTION = "question"
    MESSAGE = "message"
    TRANSFER = "transfer"
    OWNER = "owner"  # the owner calling in
    DONE = "done"


_ALWAYS = ("business_info", "take_message", "transfer_to_owner", "end_call")
_ENTRY = ("start_booking", "report_emergency", "my_appointments", *_ALWAYS)

PHASE_TOOLS: dict[Phase, tuple[str, ...]] = {
    Phase.GREET: _ENTRY,
    Phase.NEED: _ENTRY,
    Phase.QUESTION: _ENTRY,
    Phase.WRAP_UP: _ENTRY,
    Phase.DETAILS: ("save_details", "find_slots", *_ALWAYS),
    Phase.FIND_TIME: ("save_details", "find_slots", "choose_slot", *_ALWAYS),
    Phase.CONFIRM: ("save_details", "find_slots", "choose_slot", "book", *_ALWAYS),
    Phase.BOOK: ("book", *_ALWAYS),
    Phase.EMERGENCY: ("save_details", "find_slots", "choose_slot", "book", *_ALWAYS),
    Phase.RESCHEDULE: ("my_appointments", "find_slots", "choose_slot", "reschedule_booking", *_ALWAYS),
    Phase.CANCEL: ("my_appointments", "cancel_booking", *_ALWAYS),
    Phase.LOOKUP: ("my_appointments", "start_booking", *_ALWAYS),
    Phase.MESSAGE: ("save_details", *_ALWAYS),
    Phase.TRANSFER: _ALWAYS,
    Phase.OWNER: ("owner_schedule", *_ALWAYS),
    Phase.DONE: (),
}


def tools_for(phase: str) -> tuple[str, ...]:
    return PHASE_TOOLS.get(Phase(phase), ())
