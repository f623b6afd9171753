"""What a conversation knows between turns: who is calling, what they told us, what was offered and read back.

The fields are typed (times are aware datetimes, windows are `TimeWindow`s); `to_dict` / `from_dict` turn the
whole memory into JSON-able data so a text thread can be stored between texts and picked up again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from silentpartner.conversation.events import Outcome
from silentpartner.conversation.states import Flow, State
from silentpartner.conversation.when import Ambiguous, TimeWindow


@dataclass
class CallerDetails:
    name: str | None = None
    phone: str | None = None  # E.164
    phone_confirmed: bool = False
    address: str | None = None  # as said, city included
    problem: str | None = None  # a clean note of what is wrong, for the booking and the owner
    email: str | None = None  # only when the caller offers it
    urgent: bool = False


@dataclass
class OfferedSlot:
    """A slot offered in this conversation: the opaque id the brain sees, and what it stands for."""

    id: str
    calendar_id: str
    service: str
    start: datetime
    end: datetime
    team_member: str | None
    label: str  # spoken, business timezone


@dataclass
class KnownBooking:
    """A booking the calendar said belongs to this caller's number (nobody else's is ever listed)."""

    uid: str
    service: str
    start: datetime
    end: datetime
    label: str
    name: str | None = None
    address: str | None = None


@dataclass
class MoveRequest:
    """What the caller said about moving a booking, kept until their bookings are looked up."""

    booking_day: date | None = None  # the day that names the booking ("my Thursday appointment")
    shift_minutes: int | None = None  # "push it back a day": +1440
    same_time: bool = False  # "same time next Tuesday"
    later_same_day: bool = False  # "can you come later in the day?"


@dataclass
class OwnerTask:
    """A change the owner asked for, waiting on their yes: move, cancel, a running-late text, time off."""

    kind: str  # who | move | cancel | late | block | reopen
    job_minutes: int | None = None  # the job named by its time ("the 2pm": 840)
    job_name: str | None = None  # or by its customer ("the Lee job")
    uid: str | None = None  # the booking, once found
    customer: str | None = None  # that booking's customer, as said back
    phone: str | None = None  # and their number (a running-late text goes there)
    late_minutes: int | None = None
    start: datetime | None = None  # the booking's start, or a stretch of time off
    end: datetime | None = None
    member: str | None = None  # whose time off (None: the whole business)
    label: str = ""  # how the job or the time off is said back


@dataclass
class PendingTool:
    call_id: str
    name: str
    purpose: str


@dataclass
class Memory:
    business: str = ""
    call_id: str = ""
    channel: str = "phone"
    caller: str | None = None
    forwarded_from: str | None = None
    is_owner: bool = False
    staff: str | None = None  # a team member running their day (their own jobs only)
    pin_ok: bool = False  # the owner's PIN was given on this call
    pin_tries: int = 0
    known_customer: bool = False

    state: State = State.GREETING
    flow: Flow = Flow.NONE
    service: str | None = None
    details: CallerDetails = field(default_factory=CallerDetails)
    windows: tuple[TimeWindow, ...] = ()  # when the caller wants us (one, or "Monday or Tuesday")
    ambiguous: Ambiguous | None = None  # a time question asked back, and its readings
    offered: dict[str, OfferedSlot] = field(default_factory=dict)
    last_offer: list[str] = field(default_factory=list)  # ids offered in the latest list, in order
    chosen: str | None = None
    hold_id: str | None = None
    readback_for: str | None = None  # slot id (or "cancel:<uid>") the read-back was about
    readback_yes: bool = False  # the caller said an explicit yes to that read-back
    bookings: list[KnownBooking] = field(default_factory=list)
    bookings_loaded: bool = False
    target_uid: str | None = None
    move: MoveRequest | None = None
    owner_task: OwnerTask | None = None
    message: str | None = None
    pending_tool: PendingTool | None = None
    tool_seq: int = 0
    slot_seq: int = 0

    # repair and manners
    misses: dict[str, int] = field(default_factory=dict)  # failed answers per state (the repair ladder)
    silences: int = 0
    refusals: int = 0
    told: list[str] = field(default_factory=list)  # one-time lines already said ("no_bookings", "safety", ...)
    way_out_from: State | None = None  # the question the caller gave up on
    search_note: str = ""  # why the times offered next are not what was asked ("9 AM today has already passed.")
    last_heard: str = ""  # the caller's last words
    misheard: list[str] = field(default_factory=list)  # the words that didn't come through, for the owner
    last_prompt: str = ""
    last_line: str = ""  # the last thing the agent said, so no line is said twice in a row

    outcome: Outcome = field(default_factory=Outcome)
    finished: bool = False

    @property
    def runs_the_day(self) -> bool:
        """The owner or a team member (owner mode), not a customer."""
        return self.is_owner or self.staff is not None

    @property
    def window(self) -> TimeWindow | None:
        return self.windows[0] if self.windows else None

    def tell_once(self, key: str) -> bool:
        """True the first time `key` is told in this conversation."""
        if key in self.told:
            return False
        self.told.append(key)
        return True

    # -- persistence ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _dump(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Memory:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        memory = cls(**{k: v for k, v in values.items() if k in _PLAIN})
        memory.state = State(values.get("state", State.GREETING))
        memory.flow = Flow(values.get("flow", Flow.NONE))
        memory.details = CallerDetails(**values.get("details", {}))
        memory.windows = tuple(_window(w) for w in values.get("windows", []))
        if values.get("ambiguous"):
            a = values["ambiguous"]
            memory.ambiguous = Ambiguous(question=a["question"], options=tuple(_window(w) for w in a["options"]))
        memory.offered = {
            k: OfferedSlot(**{**v, "start": _time(v["start"]), "end": _time(v["end"])})
            for k, v in values.get("offered", {}).items()
        }
        memory.bookings = [
            KnownBooking(**{**b, "start": _time(b["start"]), "end": _time(b["end"])})
            for b in values.get("bookings", [])
        ]
        if values.get("move"):
            move = values["move"]
            day = move.get("booking_day")
            memory.move = MoveRequest(**{**move, "booking_day": date.fromisoformat(day) if day else None})
        if values.get("owner_task"):
            task = values["owner_task"]
            memory.owner_task = OwnerTask(
                **{**task, "start": _maybe_time(task.get("start")), "end": _maybe_time(task.get("end"))}
            )
        if values.get("pending_tool"):
            memory.pending_tool = PendingTool(**values["pending_tool"])
        if values.get("way_out_from"):
            memory.way_out_from = State(values["way_out_from"])
        outcome = values.get("outcome") or {}
        memory.outcome = Outcome(
            action=outcome.get("action", "none"), booking=outcome.get("booking"), message=outcome.get("message")
        )
        return memory


_PLAIN = frozenset(
    {
        "business",
        "call_id",
        "channel",
        "caller",
        "forwarded_from",
        "is_owner",
        "staff",
        "pin_ok",
        "pin_tries",
        "known_customer",
        "service",
        "last_offer",
        "chosen",
        "hold_id",
        "readback_for",
        "readback_yes",
        "bookings_loaded",
        "target_uid",
        "message",
        "tool_seq",
        "slot_seq",
        "misses",
        "silences",
        "refusals",
        "told",
        "search_note",
        "last_heard",
        "misheard",
        "last_prompt",
        "last_line",
        "finished",
    }
)


def _dump(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, TimeWindow):
        return {"start": value.start.isoformat(), "end": value.end.isoformat(), **_flags(value)}
    if isinstance(value, Ambiguous):
        return {"question": value.question, "options": [_dump(o) for o in value.options]}
    if isinstance(value, Outcome):
        return value.as_dict()
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {k: _dump(v) for k, v in asdict(value).items()}
    return value


def _flags(window: TimeWindow) -> dict[str, Any]:
    return {"label": window.label, "exact": window.exact, "asap": window.asap}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _maybe_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _window(data: dict[str, Any]) -> TimeWindow:
    return TimeWindow(
        start=_time(data["start"]),
        end=_time(data["end"]),
        label=data.get("label", ""),
        exact=bool(data.get("exact")),
        asap=bool(data.get("asap")),
    )
