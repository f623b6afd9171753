"""Cal.com webhook deliveries read into our terms: the signature check, and a payload (or a polled
booking) turned into a `BookingChange` for the bookings mirror.

No I/O here: no database, no HTTP route, no jobs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from silentpartner.calendar.calcom import WEBHOOK_TRIGGERS
from silentpartner.calendar.calcom_json import META_CALL_ID, META_SOURCE
from silentpartner.calendar.port import Booking
from silentpartner.phones import try_e164

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


# -- the delivery's identity (Cal.com may deliver the same change twice) ------------------------------


def dedupe_key(trigger: str, payload: dict[str, Any], envelope: dict[str, Any], raw: bytes) -> str:
    uid = payload.get("uid") or payload.get("bookingUid")
    created = envelope.get("createdAt") if "payload" in envelope else None
    if uid and created:
        return f"calcom:{trigger}:{uid}:{created}"[:200]
    if uid and trigger == "MEETING_ENDED":
        return f"calcom:{trigger}:{uid}"[:200]  # flat, no createdAt: it fires once per booking
    return f"calcom:{trigger}:sha256:{hashlib.sha256(raw).hexdigest()}"[:200]
