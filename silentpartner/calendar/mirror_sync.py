"""Apply a Cal.com booking change to the bookings mirror (`BookingRecord`) and enqueue what follows.

What follows: the customer's text (`booking_text`), the owner's (`owner_notice`), the booking's
reminders and review request moved or dropped (`booking_jobs`), and the slot cache invalidated. Used
by the `process_webhook` job for a stored delivery and by `reconcile` for a polled change. This module
never imports messaging: it only writes rows and enqueues jobs, and messaging runs them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from silentpartner.business import Business
from silentpartner.calendar.booking_jobs import (
    ACTIVE,
    drop_booking_jobs,
    schedule_reminders,
    schedule_review_after_meeting,
)
from silentpartner.calendar.calcom_json import META_SOURCE
from silentpartner.calendar.webhook_payloads import (
    BOOKING_TRIGGERS,
    SELF_CONFIRMING_SOURCES,
    BookingChange,
    change_from_payload,
)
from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord, WebhookEvent
from silentpartner.webhook_fields import clean_text

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.calendar.mirror_sync")


def business_for(runtime: Runtime, change: BookingChange | None, hint: str | None, row: BookingRecord | None):
    if hint and runtime.businesses.by_slug(hint):
        return runtime.businesses.by_slug(hint)
    if row is not None and runtime.businesses.by_slug(row.business):
        return runtime.businesses.by_slug(row.business)
    if change is not None and change.event_type_id is not None:
        for business in runtime.businesses:
            if any(s.calcom_event_type_id == change.event_type_id for s in business.services):
                return business
    calcom = [b for b in runtime.businesses if b.calendar == "calcom"]
    return calcom[0] if len(calcom) == 1 else None


def _service_slug(business: Business, event_type_id: int | None, fallback: str | None) -> str:
    for service in business.services:
        if event_type_id is not None and service.calcom_event_type_id == event_type_id:
            return service.slug
    return fallback or business.default_service().slug


async def _find_row(session: AsyncSession, change: BookingChange) -> BookingRecord | None:
    """The mirror row: by uid, or (a phone booking whose own write has not landed yet) by our call id."""
    row = await session.scalar(select(BookingRecord).where(BookingRecord.uid == change.uid))
    if row is None and change.call_id and change.start is not None and change.trigger != "BOOKING_RESCHEDULED":
        # Our call wrote the booking under another uid (e.g. before Cal.com answered): same call, same time.
        row = await session.scalar(
            select(BookingRecord)
            .where(BookingRecord.call_sid == change.call_id, BookingRecord.start_at == change.start)
            .limit(1)
        )
        if row is not None:
            row.uid = change.uid
    return row


async def process_delivery(runtime: Runtime, event_id: int) -> str:
    """Apply one stored delivery. Returns the event's final status (processed | ignored)."""
    async with runtime.db.session() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            return "missing"
        if event.status in ("processed", "ignored"):
            return event.status
        envelope = event.payload.get("envelope") or {}
        hint = event.payload.get("business")
        trigger = event.trigger
    payload = envelope["payload"] if isinstance(envelope.get("payload"), dict) else envelope
    status = "ignored"
    error = None
    try:
        if trigger in BOOKING_TRIGGERS:
            change = change_from_payload(trigger, payload)
            if change is not None:
                status = await apply_change(runtime, change, hint=hint)
        else:
            log_event(log, "calcom.webhook_ignored", trigger=trigger)
    except Exception as exc:
        error = repr(exc)
        raise
    finally:
        async with runtime.db.session() as session:
            event = await session.get(WebhookEvent, event_id)
            if event is not None:
                event.status = "failed" if error else status
                event.error = clean_text(error, 4000)
                event.processed_at = runtime.clock.now()
    return status


async def apply_change(runtime: Runtime, change: BookingChange, *, hint: str | None = None, notify: bool = True) -> str:
    """Bring the mirror up to date with one change and enqueue what follows. Idempotent.

    `notify=False` (the very first reconcile) syncs the mirror and reminders but texts nobody."""
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        row = await _find_row(session, change)
        business = business_for(runtime, change, hint, row)
        if business is None:
            log_event(log, "calcom.webhook_unknown_business", logging.WARNING, uid=change.uid)
            return "ignored"
        if change.trigger == "MEETING_ENDED":
            await schedule_review_after_meeting(session, business, change, row, now)
            return "processed"
        previous_status = row.status if row is not None else None
        previous_start = row.start_at if row is not None else None
        old: BookingRecord | None = None
        if change.reschedule_uid:
            old = await session.scalar(select(BookingRecord).where(BookingRecord.uid == change.reschedule_uid))
        row = _upsert_row(session, business, change, row, old, now)
        await session.flush()
        await _effects(session, business, change, row, old, previous_status, previous_start, now, notify)
    if runtime.slot_cache is not None:
        runtime.slot_cache.invalidate(business.slug)
    return "processed"


# Where a mirror row came from (BookingRecord.source); a booking's metadata may claim anything.
KNOWN_SOURCES = frozenset({"call", "sms", "cli", "simulate", "calcom", "webhook"})


def _source(change: BookingChange) -> str:
    claimed = change.metadata.get(META_SOURCE)
    if claimed in KNOWN_SOURCES:
        return claimed
    return "call" if change.call_id else "calcom"


def _upsert_row(
    session: AsyncSession,
    business: Business,
    change: BookingChange,
    row: BookingRecord | None,
    old: BookingRecord | None,
    now: datetime,
) -> BookingRecord:
    if row is None:
        row = BookingRecord(
            uid=change.uid,
            business=business.slug,
            backend="calcom" if business.calendar == "calcom" else business.calendar,
            service=_service_slug(business, change.event_type_id, old.service if old else None),
            start_at=change.start or now,
            end_at=change.end or change.start or now,
            status=change.status,
            source=_source(change),
            call_sid=change.call_id,
            metadata_json=dict(change.metadata),
            created_at=now,
            updated_at=now,
        )
        if old is not None:
            # A moved booking keeps where it came from (and whether its confirmation went out).
            row.source = old.source
            row.call_sid = row.call_sid or old.call_sid
            row.confirmation_sent_at = old.confirmation_sent_at
        session.add(row)
    if change.event_type_id is not None:
        row.service = _service_slug(business, change.event_type_id, row.service)
    if change.start is not None:
        row.start_at = change.start
    if change.end is not None:
        row.end_at = change.end
    row.status = change.status
    for attr, value in (
        ("attendee_name", change.name),
        ("attendee_phone", change.phone),
        ("attendee_email", change.email),
        ("address", change.address),
        ("notes", change.notes),
        ("payment_link", change.payment_link),
        ("cancellation_reason", change.cancellation_reason),
        ("call_sid", change.call_id),
    ):
        if value:
            setattr(row, attr, value)
    if old is not None:
        row.rescheduled_from = old.uid
        if old.address and not row.address:
            row.address = old.address
        if old.attendee_phone and not row.attendee_phone:
            row.attendee_phone = old.attendee_phone
    if change.metadata:
        row.metadata_json = {**(row.metadata_json or {}), **change.metadata}
    row.updated_at = now
    return row


async def _effects(
    session: AsyncSession,
    business: Business,
    change: BookingChange,
    row: BookingRecord,
    old: BookingRecord | None,
    previous_status: str | None,
    previous_start: datetime | None,
    now: datetime,
    notify: bool = True,
) -> None:
    uid = row.uid

    async def notice(kind: str, at: datetime) -> None:
        if notify:
            await _notice(session, business, uid, kind, at)

    async def owner(event: str, at: datetime) -> None:
        if notify:
            await _owner(session, business, uid, event, at)

    ours = change.ours or row.source in SELF_CONFIRMING_SOURCES
    if row.status in ACTIVE:
        await schedule_reminders(session, business, row, now)
    else:
        await drop_booking_jobs(session, uid, now)

    trigger = change.trigger
    if trigger == "BOOKING_RESCHEDULED" and old is not None:
        moved_by_us = old.rescheduled_to == uid or old.status == "rescheduled"
        old.status = "rescheduled"
        old.rescheduled_to = uid
        old.updated_at = now
        await drop_booking_jobs(session, old.uid, now)
        if not moved_by_us:
            await notice("rescheduled", now)
            await owner("rescheduled", now)
        return
    if trigger == "BOOKING_RESCHEDULED":
        # The old booking is unknown to us: treat the new one as a change of time.
        if previous_start is None or previous_start != row.start_at:
            await notice("rescheduled", now)
            await owner("rescheduled", now)
        return
    if row.status == "cancelled":
        if previous_status in ACTIVE:
            # Cancelled on Cal.com's side (if it went through us, the mirror already said cancelled).
            await notice("cancelled", now)
            await owner("cancelled", now)
        return
    if row.status == "rejected":
        if previous_status != "rejected":
            await notice("rejected", now)
            await owner("rejected", now)
        return
    if row.status == "pending" and not ours and previous_status is None:
        await notice("requested", now)
        await owner("requested", now)
        return
    if row.status == "accepted" and not ours:
        if row.confirmation_sent_at is None:
            await notice("confirmation", now)
        fresh = previous_status is None or previous_status in ("pending", "awaiting_payment")
        if fresh and row.source != "cli":  # the owner made a CLI booking themselves
            await owner("booked", now)
    elif row.status == "accepted" and previous_start is not None and previous_start != row.start_at:
        # Moved in place (same uid) from outside our channels.
        await notice("rescheduled", now)


async def _notice(session: AsyncSession, business: Business, uid: str, notice: str, now: datetime) -> None:
    """The customer's text about this booking (composed and sent by messaging)."""
    await jobs.enqueue(
        session,
        "booking_text",
        {"business": business.slug, "booking_uid": uid, "notice": notice},
        run_at=now,
        business=business.slug,
        dedupe_key=f"booking_text:{notice}:{uid}",
        now=now,
    )


async def _owner(session: AsyncSession, business: Business, uid: str, event: str, now: datetime) -> None:
    await jobs.enqueue(
        session,
        "owner_notice",
        {"business": business.slug, "booking_uid": uid, "event": event},
        run_at=now,
        business=business.slug,
        dedupe_key=f"owner_notice:{event}:{uid}",
        now=now,
    )
