"""Cal.com webhooks (`POST /webhooks/calcom`) and the reconcile job that catches what they missed.

The route checks `X-Cal-Signature-256` (hex HMAC-SHA256 of the raw body), stores the delivery
(`WebhookEvent`, deduplicated) together with a `process_webhook` job in one transaction, and answers
at once. The job (run by the messaging worker) brings the bookings mirror up to date and enqueues
what follows from the change: the customer's text (`booking_text`), the owner's (`owner_notice`),
reminders moved or dropped, a review request after MEETING_ENDED, and the slot cache is invalidated.

This module never imports messaging: it only writes rows and enqueues jobs, and messaging runs them.
Cal.com does not retry failed deliveries, so `reconcile` polls `GET /v2/bookings?afterUpdatedAt=...`
and applies the same effects to whatever changed since the last sync (`SyncState`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from silentpartner.business import Business
from silentpartner.calendar.calcom import META_CALL_ID, META_SOURCE, WEBHOOK_TRIGGERS
from silentpartner.calendar.port import Booking
from silentpartner.logs import log_event
from silentpartner.phones import try_e164
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord, SyncState, WebhookEvent

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.calendar.webhooks")

SIGNATURE_HEADER = "x-cal-signature-256"
NO_SECRET = "no-secret-provided"
# The metadata keys we write into Cal.com bookings, and the triggers we subscribe to, are the backend's.
BOOKING_TRIGGERS = frozenset(WEBHOOK_TRIGGERS)
ACTIVE = ("accepted", "pending", "awaiting_payment")
SELF_CONFIRMING_SOURCES = ("call", "sms", "simulate")
RECONCILE_EVERY = timedelta(minutes=10)
RECONCILE_FIRST_LOOKBACK = timedelta(days=1)
RECONCILE_OVERLAP = timedelta(minutes=1)
SLOT_CACHE_SERVICE = "slot_cache"


# -- signature ------------------------------------------------------------------------------------


def signature_for(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signature_ok(secret: str, raw: bytes, header: str | None) -> bool:
    if not header or header.strip() == NO_SECRET:
        return False
    return hmac.compare_digest(signature_for(secret, raw), header.strip().lower())


# -- the delivery, normalised ------------------------------------------------------------------------


@dataclass
class BookingChange:
    """One webhook payload (or one polled booking) in the terms of our mirror."""

    trigger: str
    uid: str
    status: str
    start: datetime | None
    end: datetime | None
    event_type_id: int | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    notes: str | None = None
    call_id: str | None = None
    ours: bool = False  # made through us (a call, a text thread, the CLI): that channel already told people
    reschedule_uid: str | None = None
    cancellation_reason: str | None = None
    payment_link: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _response_value(responses: dict[str, Any], key: str) -> Any:
    value = responses.get(key)
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def _address(payload: dict[str, Any], responses: dict[str, Any]) -> str | None:
    for key in ("address", "attendeeAddress", "serviceAddress", "location"):
        value = _response_value(responses, key)
        if isinstance(value, dict):
            value = value.get("value") if isinstance(value.get("value"), str) else value.get("address")
        if isinstance(value, str) and value.strip() and value not in ("inPerson", "attendeeInPerson"):
            if try_e164(value) is None:
                return value.strip()
    location = payload.get("location")
    if isinstance(location, str) and location.strip() and not location.startswith(("http", "integrations:")):
        if try_e164(location) is None:
            return location.strip()
    return None


def _ours(metadata: dict[str, Any]) -> bool:
    """Made on a call or in a text thread, which text their own confirmation (a CLI booking does not)."""
    return bool(metadata.get(META_CALL_ID)) or metadata.get(META_SOURCE) in SELF_CONFIRMING_SOURCES


def change_from_payload(trigger: str, payload: dict[str, Any]) -> BookingChange | None:
    uid = payload.get("uid") or payload.get("bookingUid")
    if not isinstance(uid, str) or not uid:
        return None
    attendees = payload.get("attendees") or []
    first = attendees[0] if attendees and isinstance(attendees[0], dict) else {}
    responses = payload.get("responses") if isinstance(payload.get("responses"), dict) else {}
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    phone = first.get("phoneNumber") or _response_value(responses, "attendeePhoneNumber")
    status = {
        "BOOKING_CANCELLED": "cancelled",
        "BOOKING_REJECTED": "rejected",
        "BOOKING_REQUESTED": "pending",
        "BOOKING_PAYMENT_INITIATED": "awaiting_payment",
        "BOOKING_PAID": "accepted",
    }.get(trigger)
    if status is None:
        raw = str(payload.get("status") or "ACCEPTED").lower()
        status = {"cancelled": "cancelled", "rejected": "rejected", "pending": "pending"}.get(raw, "accepted")
    payment = payload.get("paymentData") if isinstance(payload.get("paymentData"), dict) else {}
    notes = payload.get("additionalNotes") or _response_value(responses, "notes")
    event_type = payload.get("eventTypeId")
    return BookingChange(
        trigger=trigger,
        uid=uid,
        status=status,
        start=_parse_time(payload.get("startTime") or payload.get("start")),
        end=_parse_time(payload.get("endTime") or payload.get("end")),
        event_type_id=int(event_type) if isinstance(event_type, int | str) and str(event_type).isdigit() else None,
        name=first.get("name") or _response_value(responses, "name"),
        phone=try_e164(phone) if isinstance(phone, str) else None,
        email=first.get("email") or None,
        address=_address(payload, responses),
        notes=notes if isinstance(notes, str) and notes else None,
        call_id=metadata.get(META_CALL_ID) if isinstance(metadata.get(META_CALL_ID), str) else None,
        ours=_ours(metadata),
        reschedule_uid=payload.get("rescheduleUid") if isinstance(payload.get("rescheduleUid"), str) else None,
        cancellation_reason=payload.get("cancellationReason") or None,
        payment_link=payment.get("link") if isinstance(payment.get("link"), str) else None,
        metadata={k: v for k, v in metadata.items() if isinstance(v, str)},
    )


def change_from_booking(booking: Booking, trigger: str) -> BookingChange:
    metadata = booking.extra.get("metadata") if isinstance(booking.extra.get("metadata"), dict) else {}
    status = booking.status if booking.status != "rescheduled" else "cancelled"
    return BookingChange(
        trigger=trigger,
        uid=booking.uid,
        status=status,
        start=booking.start,
        end=booking.end,
        name=booking.name,
        phone=booking.phone,
        email=booking.email,
        address=booking.address,
        notes=booking.notes,
        call_id=booking.call_id,
        ours=_ours({**metadata, META_CALL_ID: booking.call_id} if booking.call_id else metadata),
        reschedule_uid=booking.rescheduled_from,
        payment_link=booking.payment_link,
        metadata={k: v for k, v in metadata.items() if isinstance(v, str)},
    )


# -- the route ------------------------------------------------------------------------------------


def dedupe_key(trigger: str, payload: dict[str, Any], envelope: dict[str, Any], raw: bytes) -> str:
    uid = payload.get("uid") or payload.get("bookingUid")
    created = envelope.get("createdAt") if "payload" in envelope else None
    if uid and created:
        return f"calcom:{trigger}:{uid}:{created}"[:200]
    if uid and trigger == "MEETING_ENDED":
        return f"calcom:{trigger}:{uid}"[:200]  # flat, no createdAt: it fires once per booking
    return f"calcom:{trigger}:sha256:{hashlib.sha256(raw).hexdigest()}"[:200]


def _refuse(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


def register(app: FastAPI) -> None:
    router = APIRouter()

    @router.post("/webhooks/calcom")
    async def calcom_webhook(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        settings = runtime.settings
        raw = await request.body()
        secret = settings.secret("calcom_webhook_secret")
        if secret:
            if not signature_ok(secret, raw, request.headers.get(SIGNATURE_HEADER)):
                log_event(log, "calcom.webhook_bad_signature", logging.WARNING)
                return _refuse(401, "invalid or missing X-Cal-Signature-256")
        elif not settings.calcom_allow_unsigned_webhooks:
            log_event(log, "calcom.webhook_refused_unsigned", logging.WARNING)
            return _refuse(401, "set CALCOM_WEBHOOK_SECRET (or CALCOM_ALLOW_UNSIGNED_WEBHOOKS=true) to accept webhooks")
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _refuse(400, "malformed JSON")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("triggerEvent"), str):
            return _refuse(400, "expected a JSON object with triggerEvent")
        trigger = envelope["triggerEvent"]
        payload = envelope["payload"] if isinstance(envelope.get("payload"), dict) else envelope
        stored = await store_delivery(runtime, trigger, payload, envelope, raw, request.query_params.get("business"))
        return JSONResponse({"status": "accepted" if stored else "duplicate"}, status_code=200)

    app.include_router(router)


async def store_delivery(
    runtime: Runtime, trigger: str, payload: dict[str, Any], envelope: dict[str, Any], raw: bytes, business: str | None
) -> bool:
    """Write the delivery and its processing job in one transaction. False for a redelivery."""
    key = dedupe_key(trigger, payload, envelope, raw)
    now = runtime.clock.now()
    uid = payload.get("uid") or payload.get("bookingUid")
    try:
        async with runtime.db.session() as session:
            if await session.scalar(select(WebhookEvent.id).where(WebhookEvent.dedupe_key == key)) is not None:
                return False
            event = WebhookEvent(
                source="calcom",
                dedupe_key=key,
                trigger=trigger[:64],
                booking_uid=uid[:128] if isinstance(uid, str) else None,
                payload={"envelope": envelope, "business": business},
                status="received",
                received_at=now,
            )
            session.add(event)
            await session.flush()
            await jobs.enqueue(
                session,
                "process_webhook",
                {"event_id": event.id},
                run_at=now,
                business=business,
                dedupe_key=f"process_webhook:{event.id}",
                now=now,
            )
    except IntegrityError:
        return False  # the same delivery raced in on another connection and won
    log_event(log, "calcom.webhook_stored", trigger=trigger, uid=uid)
    return True


# -- processing (a `process_webhook` job) -----------------------------------------------------------


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
                event.error = error
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
            await _after_meeting(session, business, change, row, now)
            return "processed"
        previous_status = row.status if row is not None else None
        previous_start = row.start_at if row is not None else None
        old: BookingRecord | None = None
        if change.reschedule_uid:
            old = await session.scalar(select(BookingRecord).where(BookingRecord.uid == change.reschedule_uid))
        row = _upsert_row(session, business, change, row, old, now)
        await session.flush()
        await _effects(session, business, change, row, old, previous_status, previous_start, now, notify)
    cache = runtime.services.get(SLOT_CACHE_SERVICE)
    if cache is not None:
        cache.invalidate(business.slug)
    return "processed"


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
            source=change.metadata.get(META_SOURCE) or ("call" if change.call_id else "calcom"),
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


def reminder_key(uid: str, hours: int) -> str:
    return f"reminder:{uid}:{hours}"


async def schedule_reminders(session: AsyncSession, business: Business, row: BookingRecord, now: datetime) -> int:
    """Put (or move) this booking's reminders; ones whose time has passed are not sent late."""
    scheduled = 0
    for hours in business.reminder_hours:
        run_at = row.start_at - timedelta(hours=hours)
        key = reminder_key(row.uid, hours)
        if run_at <= now:
            await jobs.drop(session, key, now=now)
            continue
        payload = {
            "business": business.slug,
            "booking_uid": row.uid,
            "hours": hours,
            "start": row.start_at.isoformat(),
        }
        job = await jobs.upsert(
            session, "reminder", payload, run_at=run_at, dedupe_key=key, business=business.slug, now=now
        )
        scheduled += job is not None
    return scheduled


async def drop_booking_jobs(session: AsyncSession, uid: str, now: datetime) -> int:
    """A booking that is gone or moved: no reminder or review request for it any more."""
    dropped = await jobs.drop_prefix(session, f"reminder:{uid}:", now=now)
    dropped += await jobs.drop(session, f"review_request:{uid}", now=now)
    return dropped


async def schedule_review(session: AsyncSession, business: Business, row: BookingRecord, now: datetime) -> None:
    """The embedded calendar has no MEETING_ENDED: ask for a review `review_delay_hours` after the visit's end."""
    run_at = max(row.end_at, now) + timedelta(hours=business.review_delay_hours)
    key = f"review_request:{row.uid}"
    payload = {"business": business.slug, "booking_uid": row.uid, "phone": row.attendee_phone}
    if not await jobs.reschedule(session, key, run_at=run_at, payload=payload, now=now):
        await jobs.enqueue(
            session, "review_request", payload, run_at=run_at, business=business.slug, dedupe_key=key, now=now
        )


async def _after_meeting(
    session: AsyncSession, business: Business, change: BookingChange, row: BookingRecord | None, now: datetime
) -> None:
    if row is not None and row.status not in ACTIVE:
        return
    if change.status in ("cancelled", "rejected"):
        return
    ended = change.end or (row.end_at if row is not None else now)
    run_at = max(ended, now) + timedelta(hours=business.review_delay_hours)
    await jobs.enqueue(
        session,
        "review_request",
        {"business": business.slug, "booking_uid": change.uid, "phone": change.phone},
        run_at=run_at,
        business=business.slug,
        dedupe_key=f"review_request:{change.uid}",
        now=now,
    )


# -- reconcile (a `reconcile` job) ------------------------------------------------------------------


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
