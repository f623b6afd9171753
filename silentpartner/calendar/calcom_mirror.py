"""Write the bookings we make or change on Cal.com into the store's bookings mirror (`BookingRecord`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from silentpartner.calendar.port import Booking
from silentpartner.clock import Clock
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord


async def mirror_booking(db: Database | None, clock: Clock, business_slug: str, booking: Booking) -> None:
    """Insert or update `booking`'s mirror row (nothing to do without a database)."""
    if db is None:
        return
    try:
        await _write_mirror(db, clock, business_slug, booking)
    except IntegrityError:
        # The booking's webhook inserted the same uid between our read and our insert: the row
        # exists now, so the second pass updates it instead.
        await _write_mirror(db, clock, business_slug, booking)


async def _write_mirror(db: Database, clock: Clock, business_slug: str, booking: Booking) -> None:
    now = clock.now()
    async with db.session() as session:
        row = (await session.execute(select(BookingRecord).where(BookingRecord.uid == booking.uid))).scalar()
        if row is None:
            row = BookingRecord(uid=booking.uid, business=business_slug, backend="calcom", created_at=now)
            session.add(row)
        row.service = booking.service
        row.start_at = booking.start
        row.end_at = booking.end
        row.team_member = booking.team_member
        row.attendee_name = booking.name
        row.attendee_phone = booking.phone
        row.attendee_email = booking.email
        row.address = booking.address
        row.notes = booking.notes
        row.status = booking.status
        row.source = booking.source or "calcom"
        row.call_sid = booking.call_id
        row.payment_link = booking.payment_link
        if booking.rescheduled_from:
            row.rescheduled_from = booking.rescheduled_from
        if booking.extra.get("cancellationReason"):
            row.cancellation_reason = booking.extra["cancellationReason"]
        row.metadata_json = {k: v for k, v in booking.extra.get("metadata", {}).items() if isinstance(v, str)}
        row.updated_at = now


async def mark_rescheduled(db: Database | None, clock: Clock, old_uid: str, new_uid: str) -> None:
    """The old booking of a reschedule we made points at its replacement."""
    if db is None:
        return
    async with db.session() as session:
        row = (await session.execute(select(BookingRecord).where(BookingRecord.uid == old_uid))).scalar()
        if row is not None:
            row.status = "rescheduled"
            row.rescheduled_to = new_uid
            row.updated_at = clock.now()
