"""Rules enforced in code, whatever a brain (rules or a chat model) asks for.

Each check raises `Refused` with a reason a brain can read and a line the caller can hear. The machine
runs them before it emits a `RunTool`; `tools.ToolRunner` re-checks ownership against the calendar.
"""

from __future__ import annotations

import re

from silentpartner.conversation.memory import Memory
from silentpartner.conversation.states import tools_for


class Refused(Exception):
    def __init__(self, reason: str, say_key: str = "refuse_rules") -> None:
        super().__init__(reason)
        self.reason = reason
        self.say_key = say_key


def tool_allowed(memory: Memory, tool: str) -> None:
    if tool not in tools_for(memory.state):
        raise Refused(f"the tool {tool} is not available in the {memory.state} state")


def offered_slot(memory: Memory, slot_id: str) -> None:
    if slot_id not in memory.offered:
        raise Refused(f"slot {slot_id!r} was not offered in this conversation; call find_slots and offer one")


def can_book(memory: Memory, slot_id: str) -> None:
    """Book only a slot offered here, after the caller said yes to a read-back of exactly that slot."""
    offered_slot(memory, slot_id)
    if memory.readback_for != slot_id or not memory.readback_yes:
        raise Refused("the caller has not said yes to a read-back of this slot; call choose_slot and read it back")
    if not memory.details.name:
        raise Refused("the caller's name is missing")
    if not memory.details.phone:
        raise Refused("the caller's callback number is missing")


def owns_booking(memory: Memory, uid: str) -> None:
    """Only bookings the calendar listed for this caller's own number (never another customer's)."""
    if not memory.bookings_loaded or uid not in {b.uid for b in memory.bookings}:
        raise Refused("that booking is not one of this caller's bookings", "refuse_rules")


def can_reschedule(memory: Memory, uid: str, slot_id: str) -> None:
    owns_booking(memory, uid)
    offered_slot(memory, slot_id)
    if memory.readback_for != slot_id or not memory.readback_yes:
        raise Refused("the caller has not said yes to a read-back of the new time")


def can_cancel(memory: Memory, uid: str) -> None:
    owns_booking(memory, uid)
    if memory.readback_for != f"cancel:{uid}" or not memory.readback_yes:
        raise Refused("the caller has not said yes to cancelling this booking")


def is_owner(memory: Memory) -> None:
    """The owner or a team member, from their own number; by phone also with the PIN when one is set."""
    if not memory.runs_the_day:
        raise Refused("only the owner calling from their own phone may hear the schedule", "refuse_owner")


def can_change_by_owner(memory: Memory, *, pin_set: bool) -> None:
    """Changes in owner mode: by text from their number; by phone only once the PIN was given (caller ID
    can be spoofed, and with no PIN set there is nothing to check it against)."""
    is_owner(memory)
    if memory.channel != "sms" and not (pin_set and memory.pin_ok):
        raise Refused("changes by phone need the owner's PIN", "refuse_owner_change")


def staff_job(memory: Memory, team_member: str | None) -> None:
    """A team member only sees and changes their own jobs; the owner, everyone's."""
    if memory.staff is not None and team_member != memory.staff:
        raise Refused("that job belongs to someone else on the team", "refuse_not_yours")


_ATTACKS = re.compile(
    r"ignore (all |your |the |previous |prior )*(instructions|rules|prompt)|system prompt|developer mode"
    r"|(cancel|delete|remove|clear|wipe) (all|every|everyone|everybody)"
    r"|(all|every|everyone'?s|everybody'?s|other (people|customers)'?s?) (the )?(bookings|appointments)"
    r"|read me (all|every|the) (bookings|appointments|schedule)|who else (is|has) booked|list (all|every)"
    r"|(other|another) (customer|caller|person)'?s? (booking|appointment|address|number)",
    re.IGNORECASE,
)
# Generic claims only: a customer who shares the owner's first name ("this is Mike") is not refused.
_CLAIMS_OWNER = re.compile(
    r"\b(i'?m|i am|this is|it'?s|it is) (the owner|the boss|the business owner|the manager)\b", re.IGNORECASE
)
# The owner's questions, from someone who is not the owner: the day's jobs, who a job is.
_ASKS_SCHEDULE = re.compile(
    r"\b(?:read|give|tell|send) me (?:the |your |today'?s |tomorrow'?s )?"
    r"(?:schedule|jobs|appointments|bookings|list)\b"
    r"|\bwhat'?s on (?:the |your )?(?:schedule|calendar|books)\b"
    r"|\b(?:the|your|today'?s) (?:schedule|jobs) (?:for )?today\b"
    r"|\bwho(?:'s| is) the \d{1,2}(?::\d{2})?\s*(?:am|pm)?\b"
    r"|\bwho(?:'s| is) (?:booked|coming|on) (?:today|tomorrow|at)\b"
    r"|\bhow many (?:calls|jobs|bookings) (?:today|did you)\b",
    re.IGNORECASE,
)


def is_rule_attack(text: str) -> bool:
    """Attempts to talk the receptionist out of its rules or into revealing others' bookings."""
    return bool(_ATTACKS.search(text))


def claims_to_be_owner(text: str) -> bool:
    return bool(_CLAIMS_OWNER.search(text))


def asks_for_the_schedule(text: str) -> bool:
    """The owner's kind of question ("what's on the schedule today", "who is the 2pm?"): refused to anyone else."""
    return bool(_ASKS_SCHEDULE.search(text))
