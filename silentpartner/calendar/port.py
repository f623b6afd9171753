"""The calendar port: one async Protocol the rest of the product uses, whatever the backend.

Backends: `local.LocalCalendar` (embedded, on the store) and `calcom.CalcomCalendar` (Cal.com API v2).
All datetimes are timezone-aware; values cross this boundary in UTC and are shown to people in the
business timezone by whoever shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from silentpartner.business import Business

BookingStatus = Literal["accepted", "pending", "awaiting_payment", "cancelled", "rejected", "rescheduled"]


@dataclass(frozen=True)
class ServiceInfo:
    slug: str
    name: str
    duration_minutes: int
    event_type_id: int | None = None
    requires_email: bool = False
    deposit: float | None = None


@dataclass(frozen=True)
class Slot:
    """A bookable start. `id` is opaque to callers (encodes service, start and team member)."""

    id: str
    service: str
    start: datetime
    end: datetime
    team_member: str | None = None


@dataclass(frozen=True)
class Hold:
    id: str
    slot: Slot
    expires_at: datetime


@dataclass(frozen=True)
class BookingRequest:
    service: str
    start: datetime
    name: str
    phone: str  # E.164
    email: str | None = None
    address: str | None = None
    notes: str | None = None
    team_member: str | None = None
    hold_id: str | None = None
    call_id: str | None = None  # our call sid / thread id, stored in Cal.com metadata
    source: str = "call"  # call | sms | cli | simulate


@dataclass(frozen=True)
class Booking:
    uid: str
    business: str
    service: str
    start: datetime
    end: datetime
    status: BookingStatus
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    notes: str | None = None
    team_member: str | None = None
    payment_link: str | None = None
    rescheduled_from: str | None = None
    call_id: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_active(self) -> bool:
        return self.status in ("accepted", "pending", "awaiting_payment")


# -- errors -----------------------------------------------------------------------------------------


class CalendarError(Exception):
    """Base of every calendar error; `str()` is safe to log, never to say to a caller verbatim."""


class SlotUnavailable(CalendarError):
    def __init__(self, reason: str = "that time is no longer available", alternatives: list[Slot] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.alternatives = alternatives or []


class OutsideBookingWindow(CalendarError):
    pass


class NotFound(CalendarError):
    pass


class CalendarUnavailable(CalendarError):
    """Timeouts, 5xx or 429 after retries: the caller should be handed to the owner."""


class InvalidRequest(CalendarError):
    pass


class BookingNotConfirmed(CalendarError):
    """The calendar answered a booking request with something other than the booking asked for (cancelled,
    rejected, another time). Nothing was booked for the caller; whoever handles it tells the owner."""


# -- the port ---------------------------------------------------------------------------------------


@runtime_checkable
class CalendarPort(Protocol):
    business: Business

    async def list_services(self) -> list[ServiceInfo]: ...

    async def find_slots(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        team_member: str | None = None,
        reschedule_uid: str | None = None,
    ) -> list[Slot]:
        """Every free start for `service` in [start, end), earliest first."""
        ...

    async def hold(self, slot: Slot, *, holder: str | None = None) -> Hold:
        """Hold a slot while the caller confirms; raises SlotUnavailable if it has gone."""
        ...

    async def release(self, hold_id: str) -> None: ...

    async def book(self, request: BookingRequest) -> Booking:
        """Re-checks the time; raises SlotUnavailable (with alternatives where known), or
        BookingNotConfirmed when the calendar answers with anything but that booking at that time."""
        ...

    async def get_booking(self, uid: str) -> Booking: ...

    async def bookings_for_phone(self, phone: str, *, include_past: bool = False) -> list[Booking]:
        """Active bookings tied to this E.164 number, upcoming first; with `include_past`, the whole
        history: past ones and cancelled, rejected or rescheduled ones too (each with its status)."""
        ...

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        """Active bookings starting in [start, end) (the owner's schedule)."""
        ...

    async def cancel(self, uid: str, reason: str) -> Booking: ...

    async def reschedule(
        self, uid: str, new_start: datetime, *, reason: str | None = None, hold_id: str | None = None
    ) -> Booking:
        """Move a booking; the returned booking may have a new uid (Cal.com) with `rescheduled_from` set."""
        ...

    async def block(self, start: datetime, end: datetime, *, team_member: str | None, reason: str) -> None:
        """Take [start, end) off: no slots are offered in it (for `team_member`, or for everyone when None).
        Bookings already in it stay; the caller of this says so."""
        ...

    async def reopen(self, start: datetime, end: datetime, *, team_member: str | None) -> int:
        """Give back time taken off in [start, end); the number of blocks changed (0: nothing was off)."""
        ...

    async def close(self) -> None: ...
