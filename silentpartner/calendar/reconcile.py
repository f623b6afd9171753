"""The reconcile poll (a `reconcile` job every 10 minutes per business): catch what webhooks missed.

Cal.com does not retry failed deliveries, so `reconcile` polls `GET /v2/bookings?afterUpdatedAt=...`
and applies the same effects (`mirror_sync.apply_change`) to whatever changed since the last sync
(`SyncState`). The embedded calendar sends no webhooks at all: for it the poll schedules or drops the
reminders of mirror rows changed since the last sync.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from silentpartner.business import Business
from silentpartner.calendar.booking_jobs import ACTIVE, drop_booking_jobs, schedule_reminders, schedule_review
from silentpartner.calendar.mirror_sync import apply_change
from silentpartner.calendar.port import Booking
from silentpartner.calendar.webhook_payloads import BookingChange, change_from_booking
from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord, SyncState

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.calendar.reconcile")

RECONCILE_EVERY = timedelta(minutes=10)
RECONCILE_FIRST_LOOKBACK = timedelta(days=1)
RECONCILE_OVERLAP = timedelta(minutes=1)


def cursor_key(slug: str) -> str:
    return f"calcom:reconcile:{slug}"


def _backend(calendar: Any) -> Any:
    """Under the slot cache wrapper, if any."""
    return getattr(calendar, "port", calendar)


async def reconcile(runtime: Runtime, slug: str) -> int:
    """Apply every booking change since the last sync. Returns how many changes were applied."""
    business = runtime.businesses.by_slug(slug)
    if business is None:
        return 0
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        state = await session.get(SyncState, cursor_key(slug))
        first_run = state is None
        # A little overlap: a change stamped the same instant as the last poll is not missed (effects are idempotent).
        since = now - RECONCILE_FIRST_LOOKBACK if first_run else datetime.fromisoformat(state.value) - RECONCILE_OVERLAP
    calendar = runtime.calendars.get(slug)
    backend = _backend(calendar) if calendar is not None else None
    applied = 0
    if backend is not None and hasattr(backend, "list_bookings_updated_since"):
        for booking in await backend.list_bookings_updated_since(since):
            change = await _polled_change(runtime, booking)
            if change is None and booking.is_active:
                # Unchanged, but a booking our own channels made may never have had its webhook: make
                # sure its reminders exist (idempotent).
                await _ensure_reminders(runtime, business, booking.uid, now)
            if change is not None:
                # The first poll after setup only learns what exists: old bookings get no texts out of the blue.
                await apply_change(runtime, change, hint=slug, notify=not first_run)
                applied += 1
    else:
        applied = await _local_reminders(runtime, business, since, now)
    async with runtime.db.session() as session:
        state = await session.get(SyncState, cursor_key(slug))
        if state is None:
            session.add(SyncState(key=cursor_key(slug), value=now.isoformat(), updated_at=now))
        else:
            state.value = now.isoformat()
            state.updated_at = now
    log_event(log, "calcom.reconciled", business=slug, since=since.isoformat(), applied=applied)
    return applied


async def _ensure_reminders(runtime: Runtime, business: Business, uid: str, now: datetime) -> None:
    async with runtime.db.session() as session:
        row = await session.scalar(select(BookingRecord).where(BookingRecord.uid == uid))
        if row is not None and row.status in ACTIVE:
            await schedule_reminders(session, business, row, now)


async def _polled_change(runtime: Runtime, booking: Booking) -> BookingChange | None:
    """Name the change a polled booking represents, by comparing it with the mirror; None when nothing changed."""
    async with runtime.db.session() as session:
        row = await session.scalar(select(BookingRecord).where(BookingRecord.uid == booking.uid))
    status = booking.status
    if status == "rescheduled":
        return None  # its replacement carries the change
    if row is None:
        if booking.rescheduled_from:
            trigger = "BOOKING_RESCHEDULED"
        elif status == "pending":
            trigger = "BOOKING_REQUESTED"
        elif status == "awaiting_payment":
            trigger = "BOOKING_PAYMENT_INITIATED"
        elif status == "cancelled":
            trigger = "BOOKING_CANCELLED"
        else:
            trigger = "BOOKING_CREATED"
    else:
        same = row.status == status and row.start_at == booking.start and row.end_at == booking.end
        if same:
            return None
        trigger = {
            "cancelled": "BOOKING_CANCELLED",
            "rejected": "BOOKING_REJECTED",
            "awaiting_payment": "BOOKING_PAYMENT_INITIATED",
        }.get(status, "BOOKING_PAID" if row.status in ("pending", "awaiting_payment") else "BOOKING_CREATED")
    change = change_from_booking(booking, trigger)
    if trigger != "BOOKING_RESCHEDULED":
        change.reschedule_uid = None
    return change


async def _local_reminders(runtime: Runtime, business: Business, since: datetime, now: datetime) -> int:
    """The embedded calendar sends no webhooks: schedule or drop reminders for bookings changed since `since`."""
    async with runtime.db.session() as session:
        rows = (
            await session.scalars(
                select(BookingRecord).where(
                    BookingRecord.business == business.slug,
                    or_(BookingRecord.updated_at >= since, BookingRecord.created_at >= since),
                )
            )
        ).all()
        for row in rows:
            if row.status in ACTIVE:
                await schedule_reminders(session, business, row, now)
                await schedule_review(session, business, row, now)
            else:
                await drop_booking_jobs(session, row.uid, now)
    return len(rows)


def next_reconcile_at(now: datetime) -> datetime:
    """The next 10-minute boundary: every instance computes the same time, so the dedupe key collapses them."""
    step = int(RECONCILE_EVERY.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp((epoch // step + 1) * step, tz=UTC)


async def schedule_reconcile(runtime: Runtime, slug: str, *, after: datetime | None = None) -> None:
    now = runtime.clock.now()
    run_at = next_reconcile_at(after or now)
    async with runtime.db.session() as session:
        await jobs.enqueue(
            session,
            "reconcile",
            {"business": slug},
            run_at=run_at,
            business=slug,
            dedupe_key=f"reconcile:{slug}:{run_at.isoformat()}",
            now=now,
        )
