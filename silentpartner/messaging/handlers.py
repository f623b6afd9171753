"""What each job kind does. The worker looks the handler up by `job.kind`.

Kinds and payloads:
- `sms`            business, to, body, kind, booking_uid: send a text (owner summaries follow the
                   business's owner_notifications preference)
- `textback`       call_sid: the missed-call text
- `call_summary`   call_sid: the owner's note about a call that came to nothing (what the caller said)
- `booking_text`   business, booking_uid, notice (confirmation|rescheduled|cancelled|rejected|requested)
- `owner_notice`   business, booking_uid, event: the owner's summary of a change made outside our channels
- `reminder`       business, booking_uid, hours, start
- `review_request` business, booking_uid
- `reconcile`      business: poll Cal.com (or scan the local mirror) for changes; schedules the next
- `slot_refresh`   business: drop and refetch the cached slots
- `owner_digest`   business, day: the daily summary; schedules the next
- `process_webhook` event_id: apply a stored Cal.com delivery
- `recording_purge` (none): delete call recordings past their business's retention; schedules the next
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from silentpartner import sms_text as texts
from silentpartner.business import Business
from silentpartner.calendar.mirror_sync import process_delivery
from silentpartner.calendar.reconcile import reconcile, schedule_reconcile
from silentpartner.logs import log_event
from silentpartner.messaging import notifications
from silentpartner.messaging.call_summary import send_call_summary
from silentpartner.messaging.sms import sender_for
from silentpartner.messaging.textback import send_textback
from silentpartner.recordings import catalog
from silentpartner.recordings.storage import open_store
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord, Job, MessageRecord

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.handlers")
ACTIVE = ("accepted", "pending", "awaiting_payment")
FINISHED_JOBS_KEPT = timedelta(days=14)


class JobPayloadError(ValueError):
    """The job names a business or field we cannot use (it will be retried and then parked)."""


def _business(runtime: Runtime, job: Job) -> Business:
    slug = job.payload.get("business") or job.business
    business = runtime.businesses.by_slug(slug) if slug else None
    if business is None:
        raise JobPayloadError(f"unknown business {slug!r}")
    return business


async def _booking(runtime: Runtime, uid: str | None) -> BookingRecord | None:
    if not uid:
        return None
    async with runtime.db.session() as session:
        return await session.scalar(select(BookingRecord).where(BookingRecord.uid == uid))


async def run_sms(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    p = job.payload
    to, body, kind = p.get("to"), p.get("body"), p.get("kind") or "reply"
    if not to or not body:
        raise JobPayloadError("an sms job needs `to` and `body`")
    if to == business.owner_mobile and kind.startswith("owner_"):
        await notifications.deliver_owner_text(runtime, business, body, kind=kind, booking_uid=p.get("booking_uid"))
        return
    await sender_for(runtime).send(business, to, body, kind=kind, booking_uid=p.get("booking_uid"))


async def run_textback(runtime: Runtime, job: Job) -> None:
    call_sid = job.payload.get("call_sid")
    if not call_sid:
        raise JobPayloadError("a textback job needs `call_sid`")
    await send_textback(runtime, call_sid)


async def run_call_summary(runtime: Runtime, job: Job) -> None:
    call_sid = job.payload.get("call_sid")
    if not call_sid:
        raise JobPayloadError("a call_summary job needs `call_sid`")
    await send_call_summary(runtime, call_sid)


NOTICE_KINDS = {
    "confirmation": ("confirmation", texts.confirmation),
    "requested": ("request", texts.request_received),
    "rescheduled": ("reschedule", texts.rescheduled),
    "cancelled": ("cancellation", texts.cancelled),
    "rejected": ("rejection", texts.rejected),
}


async def run_booking_text(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    notice = job.payload.get("notice")
    if notice not in NOTICE_KINDS:
        raise JobPayloadError(f"unknown notice {notice!r}")
    row = await _booking(runtime, job.payload.get("booking_uid"))
    if row is None or not row.attendee_phone:
        log_event(log, "booking_text.skipped", business=business.slug, notice=notice, reason="no booking or phone")
        return
    if notice == "confirmation" and (row.confirmation_sent_at is not None or row.status != "accepted"):
        return  # a call or text thread already confirmed it, or it is no longer on
    if notice in ("rescheduled", "requested") and row.status not in ACTIVE:
        return
    kind, compose = NOTICE_KINDS[notice]
    await sender_for(runtime).send(
        business,
        row.attendee_phone,
        compose(business, texts.BookingFacts.of_record(row)),
        kind=kind,
        booking_uid=row.uid,
    )


OWNER_TEXTS = {
    "booked": lambda b, f, row: texts.owner_booking(b, f, source=row.source),
    "requested": lambda b, f, row: "Request (needs your OK): " + texts.owner_booking(b, f, source=row.source),
    "rescheduled": lambda b, f, row: texts.owner_rescheduled(b, f),
    "cancelled": lambda b, f, row: texts.owner_cancelled(b, f),
    "rejected": lambda b, f, row: texts.owner_cancelled(b, f).replace("Cancelled", "Declined", 1),
}


async def run_owner_notice(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    event = job.payload.get("event")
    row = await _booking(runtime, job.payload.get("booking_uid"))
    if row is None or event not in OWNER_TEXTS:
        return
    body = OWNER_TEXTS[event](business, texts.BookingFacts.of_record(row), row)
    await notifications.deliver_owner_text(runtime, business, body, kind="owner_summary", booking_uid=row.uid)


async def run_reminder(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    row = await _booking(runtime, job.payload.get("booking_uid"))
    if row is None or row.status not in ("accepted",) or not row.attendee_phone:
        return
    planned = job.payload.get("start")
    if planned and datetime.fromisoformat(planned) != row.start_at:
        return  # the booking moved; its own reminder is scheduled for the new time
    if row.start_at <= runtime.clock.now():
        return
    hours = int(job.payload.get("hours") or 24)
    await sender_for(runtime).send(
        business,
        row.attendee_phone,
        texts.reminder(business, texts.BookingFacts.of_record(row), hours),
        kind="reminder",
        booking_uid=row.uid,
    )


async def run_review_request(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    uid = job.payload.get("booking_uid")
    row = await _booking(runtime, uid)
    phone = (row.attendee_phone if row is not None else None) or job.payload.get("phone")
    if not phone or (row is not None and row.status in ("cancelled", "rejected", "rescheduled")):
        return
    async with runtime.db.session() as session:
        sent = await session.scalar(
            select(MessageRecord.id).where(MessageRecord.booking_uid == uid, MessageRecord.kind == "review_request")
        )
    if sent is not None:
        return
    booking = (
        texts.BookingFacts.of_record(row)
        if row is not None
        else texts.BookingFacts(uid=uid, service="", start=runtime.clock.now())
    )
    await sender_for(runtime).send(
        business, phone, texts.review_request(business, booking), kind="review_request", booking_uid=uid
    )


async def run_reconcile(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    try:
        await reconcile(runtime, business.slug)
        async with runtime.db.session() as session:
            await jobs.purge_finished(session, before=runtime.clock.now() - FINISHED_JOBS_KEPT)
    finally:
        await schedule_reconcile(runtime, business.slug, after=max(job.run_at, runtime.clock.now()))


async def run_slot_refresh(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    if runtime.slot_cache is not None:
        runtime.slot_cache.invalidate(business.slug)


async def run_owner_digest(runtime: Runtime, job: Job) -> None:
    business = _business(runtime, job)
    try:
        await notifications.send_digest(runtime, business)
    finally:
        await notifications.schedule_digest(runtime, business)


async def run_process_webhook(runtime: Runtime, job: Job) -> None:
    event_id = job.payload.get("event_id")
    if not isinstance(event_id, int):
        raise JobPayloadError("a process_webhook job needs `event_id`")
    await process_delivery(runtime, event_id)


async def run_recording_purge(runtime: Runtime, job: Job) -> None:
    try:
        await catalog.purge_expired(
            runtime.db, open_store(runtime.settings), runtime.businesses, now=runtime.clock.now()
        )
    finally:
        await catalog.schedule_purge(runtime.db, now=runtime.clock.now(), after=max(job.run_at, runtime.clock.now()))


HANDLERS = {
    "sms": run_sms,
    "textback": run_textback,
    "call_summary": run_call_summary,
    "booking_text": run_booking_text,
    "owner_notice": run_owner_notice,
    "reminder": run_reminder,
    "review_request": run_review_request,
    "reconcile": run_reconcile,
    "slot_refresh": run_slot_refresh,
    "owner_digest": run_owner_digest,
    "process_webhook": run_process_webhook,
    "recording_purge": run_recording_purge,
}


async def schedule_recurring(runtime: Runtime) -> None:
    """At worker start: the next reconcile per business, the next digest where the owner wants one, and the
    next recording purge. Every instance computes the same keys, so starting N instances schedules each once."""
    await catalog.schedule_purge(runtime.db, now=runtime.clock.now())
    for business in runtime.businesses:
        await schedule_reconcile(runtime, business.slug)
        if business.owner_notifications == "digest":
            await notifications.schedule_digest(runtime, business)
