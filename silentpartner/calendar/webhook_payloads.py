"""Cal.com webhook deliveries read into our terms: the signature check, and a payload (or a polled
booking) turned into a `BookingChange` for the bookings mirror.

No I/O here: no database, no HTTP route, no jobs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from silentpartner.calendar.calcom import WEBHOOK_TRIGGERS
from silentpartner.calendar.calcom_json import META_CALL_ID, META_SOURCE
from silentpartner.calendar.port import Booking
from silentpartner.phones import try_e164
from silentpartner.webhook_fields import bounded_int, clean_text

SIGNATURE_HEADER = "x-cal-signature-256"
NO_SECRET = "no-secret-provided"
# The metadata keys we write into Cal.com bookings, and the triggers we subscribe to, are the backend's.
BOOKING_TRIGGERS = frozenset(WEBHOOK_TRIGGERS)
# Channels that text their own confirmation, so a webhook about their booking does not text again.
SELF_CONFIRMING_SOURCES = ("call", "sms", "simulate")


# -- signature ------------------------------------------------------------------------------------


def signature_for(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signature_ok(secret: str, raw: bytes, header: str | None) -> bool:
    if not header or header.strip() == NO_SECRET:
        return False
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, which a header may carry.
    given = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(signature_for(secret, raw).encode(), given)


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


# The mirror's column widths (store/models.py BookingRecord): nothing from a delivery is stored wider.
NAME_CHARS = 200
EMAIL_CHARS = 254
ID_CHARS = 64
LONG_TEXT_CHARS = 2000
# Cal.com booking uids are URL-safe tokens; a "uid" outside that shape is not one of theirs.
_UID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if _EARLIEST <= moment < _LATEST else None


def booking_uid(payload: dict[str, Any]) -> str | None:
    """The delivery's booking uid (`uid`, or `bookingUid` on some triggers), when it has a uid's shape."""
    uid = payload.get("uid") or payload.get("bookingUid")
    return uid if isinstance(uid, str) and _UID.fullmatch(uid) else None


def _response_value(responses: dict[str, Any], key: str) -> Any:
    value = responses.get(key)
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def _address(payload: dict[str, Any], responses: dict[str, Any]) -> str | None:
    for key in ("address", "attendeeAddress", "serviceAddress", "location"):
        value = _response_value(responses, key)
        if isinstance(value, dict):
            value = value.get("value") if isinstance(value.get("value"), str) else value.get("address")
        text = clean_text(value, LONG_TEXT_CHARS)
        if text and text not in ("inPerson", "attendeeInPerson") and try_e164(text) is None:
            return text
    location = clean_text(payload.get("location"), LONG_TEXT_CHARS)
    if location and not location.startswith(("http", "integrations:")) and try_e164(location) is None:
        return location
    return None


def _ours(metadata: dict[str, Any]) -> bool:
    """Made on a call or in a text thread, which text their own confirmation (a CLI booking does not)."""
    return bool(metadata.get(META_CALL_ID)) or metadata.get(META_SOURCE) in SELF_CONFIRMING_SOURCES


def _metadata(raw: Any) -> dict[str, str]:
    """The booking's metadata, text values only (Cal.com caps them at 500 characters)."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in raw.items():
        name, text = clean_text(key, 40), clean_text(value, 500)
        if name and text:
            out[name] = text
    return out


def change_from_payload(trigger: str, payload: dict[str, Any]) -> BookingChange | None:
    """The delivery in our terms; every field validated and cut to the mirror's widths (a signature says
    who sent the body, not that it is sane), or None when it names no booking."""
    uid = booking_uid(payload)
    if uid is None:
        return None
    attendees = payload.get("attendees") if isinstance(payload.get("attendees"), list) else []
    first = attendees[0] if attendees and isinstance(attendees[0], dict) else {}
    responses = payload.get("responses") if isinstance(payload.get("responses"), dict) else {}
    metadata = _metadata(payload.get("metadata"))
    phone = clean_text(first.get("phoneNumber"), 40) or clean_text(
        _response_value(responses, "attendeePhoneNumber"), 40
    )
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
    payment_link = clean_text(payment.get("link"), LONG_TEXT_CHARS)
    reschedule_uid = payload.get("rescheduleUid")
    return BookingChange(
        trigger=trigger,
        uid=uid,
        status=status,
        start=_parse_time(payload.get("startTime") or payload.get("start")),
        end=_parse_time(payload.get("endTime") or payload.get("end")),
        event_type_id=bounded_int(payload.get("eventTypeId"), low=1, high=2**31 - 1),
        name=clean_text(first.get("name"), NAME_CHARS) or clean_text(_response_value(responses, "name"), NAME_CHARS),
        phone=try_e164(phone) if phone else None,
        email=clean_text(first.get("email"), EMAIL_CHARS),
        address=_address(payload, responses),
        notes=clean_text(payload.get("additionalNotes"), LONG_TEXT_CHARS)
        or clean_text(_response_value(responses, "notes"), LONG_TEXT_CHARS),
        call_id=clean_text(metadata.get(META_CALL_ID), ID_CHARS),
        ours=_ours(metadata),
        reschedule_uid=reschedule_uid if isinstance(reschedule_uid, str) and _UID.fullmatch(reschedule_uid) else None,
        cancellation_reason=clean_text(payload.get("cancellationReason"), LONG_TEXT_CHARS),
        payment_link=payment_link if payment_link and payment_link.startswith("https://") else None,
        metadata=metadata,
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


# -- the delivery's identity (Cal.com may deliver the same change twice) ------------------------------


def dedupe_key(trigger: str, payload: dict[str, Any], envelope: dict[str, Any], raw: bytes) -> str:
    uid = booking_uid(payload)
    created = clean_text(envelope.get("createdAt"), 40) if "payload" in envelope else None
    if uid and created:
        return f"calcom:{trigger}:{uid}:{created}"[:200]
    if uid and trigger == "MEETING_ENDED":
        return f"calcom:{trigger}:{uid}"[:200]  # flat, no createdAt: it fires once per booking
    return f"calcom:{trigger}:sha256:{hashlib.sha256(raw).hexdigest()}"[:200]
