"""What the dashboard shows, one shape for the pages and the JSON API (and so for the OpenAPI document).

Times are in the business's timezone (ISO 8601 with its offset); phone numbers in E.164.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path as FastApiPath
from pydantic import BaseModel

CallCategory = Literal["booked", "changed", "message", "transferred", "cut off", "missed", "answered", "owner", "live"]
# The categories the calls list filters by (the others are shown, not filtered on).
CALL_FILTERS: tuple[CallCategory, ...] = ("booked", "message", "missed", "transferred", "cut off")


# Row ids as a path takes them: a number outside what the database holds is refused before it is looked up.
RowId = Annotated[int, FastApiPath(ge=1, le=2**31 - 1)]


class BookingOut(BaseModel):
    uid: str
    service: str
    service_name: str
    start: datetime
    end: datetime
    customer: str | None
    phone: str | None
    address: str | None
    problem: str | None
    team_member: str | None
    status: str
    source: str
    source_label: str  # phone call | SMS | Cal.com | by hand | simulator
    call_id: int | None  # the call that made it, when one did


class CallOut(BaseModel):
    id: int
    sid: str
    started_at: datetime
    caller_name: str | None
    caller_number: str | None
    forwarded_from: str | None  # the number that forwarded the call; None: dialled directly
    channel: str  # phone | browser
    category: CallCategory
    outcome: str | None
    status: str
    duration_seconds: int | None
    summary: str
    booking_uid: str | None
    speech_engine: str | None = None  # realtime | offline; None on older calls
    speech_cost_usd: float | None = None  # Realtime token usage, priced; None: not known (offline, older calls)


class TranscriptTurn(BaseModel):
    role: Literal["caller", "agent"]
    text: str
    at: datetime | None
    offset_seconds: float | None
    latency_ms: int | None  # agent turns: from the end of the caller's turn to the first audio of this reply
    interrupted: bool = False
    heard: str | None = None  # what the caller heard of an interrupted line


class CallDetailOut(CallOut):
    transcript: list[TranscriptTurn]
    latencies_ms: list[int]
    booking: BookingOut | None
    message_for_owner: str | None
    end_reason: str | None
    transfer_outcome: str | None
    ended_at: datetime | None
    recording_url: str | None = None  # the call's recording (caller left, receptionist right) when it was kept


class MessageOut(BaseModel):
    id: int
    direction: Literal["in", "out"]
    at: datetime
    body: str
    kind: str
    status: str  # queued | sending | sent | delivered | undelivered | failed | blocked | not_sent | received ...
    error_code: int | None


class ThreadOut(BaseModel):
    phone: str
    name: str | None  # a customer's: the name on their latest booking; the owner's or team member's own
    who: Literal["customer", "owner", "team"]
    opted_out: bool
    textable: bool
    opt_out_reason: str | None
    last_at: datetime
    messages: list[MessageOut]


class ReportRow(BaseModel):
    start: date
    label: str
    calls: int
    bookings: int  # bookings made in the period, by any channel
    booked_by_calls: int
    conversion: float | None  # booked_by_calls / calls
    missed: int  # calls that came to nothing (the caller was texted back)
    recovered: int  # of those, the callers who then booked by text
    after_hours: int
    after_hours_handled: int
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    speech_cost_per_call: float | None  # USD, mean over calls that recorded a cost (Realtime); None: none did


class ReportOut(BaseModel):
    period: Literal["day", "week"]
    timezone: str
    rows: list[ReportRow]
    totals: ReportRow


class PhoneCallOut(BaseModel):
    """A browser-phone call, opened: the media websocket's path and the one-time token its `start` must carry."""

    call_id: int
    call_sid: str
    media_path: str
    token: str
