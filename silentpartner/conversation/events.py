"""What goes into a conversation (events) and what comes out of it (actions).

The conversation is sans-I/O: `ConversationMachine.handle(event) -> list[Action]`. A channel (a phone call, an SMS
thread, the simulator) feeds it events and carries out the outward actions (say, transfer, SMS, hang
up); the driver (`driver.py`) runs `RunTool` actions against the calendar and feeds back `ToolResult`s,
so tool-running code exists once for every channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Channel = Literal["phone", "sms", "simulate", "browser"]


# -- events (into the machine) ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallStarted:
    business: str  # slug
    caller: str | None  # E.164 caller ID (None when withheld)
    call_id: str  # call sid, SMS thread id, or simulator id
    channel: Channel = "phone"
    forwarded_from: str | None = None  # set when the owner's line forwarded a missed call
    is_owner: bool = False
    known_customer: bool = False
    staff: str | None = None  # the team member calling or texting (their number is in businesses.toml)


@dataclass(frozen=True)
class CallerSaid:
    text: str
    final: bool = True


@dataclass(frozen=True)
class KeysPressed:
    digits: str  # DTMF, already gathered ("#" or a pause ended them)


@dataclass(frozen=True)
class ToolResult:
    call_id: str  # matches RunTool.call_id
    name: str
    result: dict[str, Any] | None = None
    error: str | None = None  # a plain description of a failure (timeout, calendar down, ...)
    # What kind of failure, for the words the caller and the owner get: the calendar never answered, or it
    # answered but did not take the booking (rejected, cancelled, another time).
    failure: Literal["unreachable", "not_confirmed"] = "unreachable"


@dataclass(frozen=True)
class AgentInterrupted:
    """The caller barged in: only `heard` of the last Say reached them (for the context and transcript)."""

    heard: str


@dataclass(frozen=True)
class Silence:
    seconds: float


@dataclass(frozen=True)
class CallEnded:
    reason: str = "hangup"


Event = CallStarted | CallerSaid | KeysPressed | ToolResult | AgentInterrupted | Silence | CallEnded


# -- actions (out of the machine) -------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    text: str
    interruptible: bool = True


@dataclass(frozen=True)
class RunTool:
    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    number: str  # E.164
    reason: str = ""
    # One sentence for the person taking the call (who, what, what they want): whispered to them before
    # they are connected, and texted to them if they don't pick up.
    summary: str = ""


@dataclass(frozen=True)
class SendSms:
    to: str  # E.164
    body: str
    kind: str = "reply"  # confirmation | payment_link | owner_summary | reply ...
    booking_uid: str | None = None


@dataclass(frozen=True)
class HangUp:
    reason: str = "done"


# What kind of answer the agent's last question invites. Turn-taking uses it: a caller reading out a phone
# number or an address pauses between groups and must not be cut off; a yes/no is over quickly.
Expect = Literal["open", "name", "phone", "address", "time", "choice", "yes_no"]


@dataclass(frozen=True)
class EndOfTurn:
    """The agent has finished speaking for now and waits for the caller."""

    expect: Expect = "open"


Action = Say | RunTool | Transfer | SendSms | HangUp | EndOfTurn


# -- outcome ----------------------------------------------------------------------------------------

OutcomeAction = Literal["booked", "rescheduled", "cancelled", "message", "transferred", "info", "none"]


@dataclass
class Outcome:
    """What the conversation achieved, for the call record and `simulate --jsonl`."""

    action: OutcomeAction = "none"
    booking: dict[str, Any] | None = None  # uid, service, start, end, name, phone, address, notes, team_member
    message: str | None = None  # a message taken for the owner

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.booking is not None:
            out["booking"] = self.booking
        if self.message is not None:
            out["message"] = self.message
        return out
