"""The caller details a conversation collects, and the conversation state that survives between turns.

Everything here is plain data (strings, numbers, lists, dicts) so an SMS thread can be written to the
store between texts and picked up again (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class CallerDetails:
    name: str | None = None
    phone: str | None = None  # E.164
    phone_confirmed: bool = False
    address: str | None = None
    problem: str | None = None
    email: str | None = None  # only when the caller offers it
    urgent: bool = False


@dataclass
class OfferedSlot:
    """A slot offered in this conversation: the opaque id the brain sees, and what it stands for."""

    id: str
    calendar_id: str
    service: str
    start: str  # ISO, UTC
    end: str
    team_member: str | None
    label: str  # spoken, business timezone


@dataclass
class KnownBooking:
    """A booking the calendar said belongs to this caller's number (nobody else's is ever listed)."""

    uid: str
    service: str
    start: str
    end: str
    label: str
    name: str | None = None
    address: str | None = None


@dataclass
class State:
    business: str = ""
    call_id: str = ""
    channel: str = "phone"
    caller: str | None = None
    forwarded_from: str | None = None
    is_owner: bool = False
    known_customer: bool = False
    phase: str = "greet"
    intent: str | None = None  # book | emergency | reschedule | cancel | lookup | message
    awaiting: str | None = None  # what the last question asked for
    service: str | None = None
    details: CallerDetails = field(default_factory=CallerDetails)
    window: dict[str, Any] | None = None  # {"start","end","label","asap"}
    ambiguous: dict[str, Any] | None = None  # {"question","options":[...]}
    offered: dict[str, OfferedSlot] = field(default_factory=dict)
    last_offer: list[str] = field(default_factory=list)  # ids offered in the latest list, in order
    chosen: str | None = None
    hold_id: str | None = None
    readback_for: str | None = None  # slot id (or "cancel:<uid>") the read-back was about
    readback_yes: bool = False  # the caller said an explicit yes to that read-back
    bookings: list[KnownBooking] = field(default_factory=list)
    bookings_loaded: bool = False
    target_uid: str | None = None
    message: str | None = None
    pending_tool: dict[str, Any] | None = None  # {"call_id","name","purpose"}
    tool_seq: int = 0
    slot_seq: int = 0
    silences: int = 0
    strays: int = 0  # off-topic turns in a row
    outcome: dict[str, Any] = field(default_factory=lambda: {"action": "none"})
    last_prompt: str | None = None
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["details"] = CallerDetails(**values.get("details", {}))
        values["offered"] = {k: OfferedSlot(**v) for k, v in values.get("offered", {}).items()}
        values["bookings"] = [KnownBooking(**b) for b in values.get("bookings", [])]
        return cls(**values)
