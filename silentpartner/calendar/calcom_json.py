"""Translation between Cal.com API v2 JSON and our values: times, event types, slots, booking bodies
and `Booking`s. No HTTP and no database here: `calcom.CalcomCalendar` sends and stores what this builds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from silentpartner.business import Business
from silentpartner.calendar.port import Booking, BookingRequest
from silentpartner.phones import try_e164
from silentpartner.webhook_fields import clean_text

# Metadata keys we write on every booking (Cal.com: ≤50 keys, key ≤40 chars, string values ≤500).
META_CALL_ID = "silentpartnerCallId"
META_REQUEST_ID = "silentpartnerRequestId"
META_SOURCE = "silentpartnerSource"


def utc_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timezone-aware datetimes only")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def whole_number(value: Any) -> bool:
    """A JSON number that is an integer (Cal.com ids come as `number`; true and false are not ids)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class EventTypeInfo:
    """What we need to know about one event type to book it well."""

    def __init__(self, data: dict[str, Any], fetched_at: datetime) -> None:
        self.raw = data
        self.fetched_at = fetched_at
        self.id = int(data["id"])
        self.length = int(data.get("lengthInMinutes") or data.get("length") or 0)
        self.fields: list[dict[str, Any]] = [f for f in data.get("bookingFields") or [] if isinstance(f, dict)]
        self.locations: list[dict[str, Any]] = [x for x in data.get("locations") or [] if isinstance(x, dict)]
        self.price = float(data.get("price") or 0)

    def field(self, slug: str) -> dict[str, Any] | None:
        return next((f for f in self.fields if f.get("slug") == slug or f.get("name") == slug), None)

    @property
    def requires_email(self) -> bool:
        email = self.field("email")
        if email is None:
            return True  # Cal.com's default booking form asks for an email
        return bool(email.get("required", True)) and not email.get("hidden", False)

    @property
    def address_field(self) -> str | None:
        """Slug of a custom address-type booking field, if the event type defines one."""
        for f in self.fields:
            if f.get("type") == "address" and f.get("slug") not in (None, "location"):
                return str(f["slug"])
        return None

    @property
    def takes_attendee_address(self) -> bool:
        return any(loc.get("type") == "attendeeAddress" for loc in self.locations)

    @property
    def notes_field(self) -> str | None:
        for slug in ("notes", "problem", "description"):
            if self.field(slug) is not None:
                return slug
        return "notes"  # Cal.com's default form has "notes" (Additional notes)


def parse_slots(data: Any, default_length: timedelta) -> list[tuple[datetime, datetime]]:
    """Both GET /v2/slots shapes: `{date: [{start}]}` and `{date: [{start, end}]}` (format=range);
    bare ISO strings (what the spec's schema, unlike its examples, declares) are accepted too."""
    out = []
    if not isinstance(data, dict):
        return out
    for items in data.values():
        for item in items or []:
            if isinstance(item, str):
                start_text, end_text = item, None
            elif isinstance(item, dict) and item.get("start"):
                start_text, end_text = item["start"], item.get("end")
            else:
                continue
            start = parse_time(start_text)
            end = parse_time(end_text) if end_text else start + default_length
            out.append((start, end))
    return out


def booking_body(
    request: BookingRequest,
    info: EventTypeInfo,
    *,
    event_type_id: int,
    time_zone: str,
    phone: str,
    email: str | None,
    request_id: str,
) -> dict[str, Any]:
    """POST /v2/bookings: the attendee's phone (E.164) and the business's zone, email only when we have one,
    our ids in `metadata`, and the address and notes wherever this event type's form takes them."""
    attendee: dict[str, Any] = {"name": request.name, "timeZone": time_zone, "phoneNumber": phone}
    if email:
        attendee["email"] = email
    body: dict[str, Any] = {
        "start": utc_z(request.start),
        "eventTypeId": event_type_id,
        "attendee": attendee,
        "metadata": {META_REQUEST_ID: request_id, META_SOURCE: request.source},
    }
    if request.call_id:
        body["metadata"][META_CALL_ID] = request.call_id[:500]
    responses: dict[str, Any] = {}
    if request.address:
        if info.address_field:
            responses[info.address_field] = request.address
        elif info.takes_attendee_address:
            body["location"] = {"type": "attendeeAddress", "address": request.address}
        else:
            responses["notes"] = request.address
    if request.notes:
        slug = info.notes_field or "notes"
        responses[slug] = f"{responses[slug]}\n{request.notes}" if slug in responses else request.notes
    if responses:
        body["bookingFieldsResponses"] = responses
    return body


def booking_from_json(
    data: dict[str, Any],
    business: Business,
    service: str,
    info: EventTypeInfo | None,
    *,
    payment_base_url: str,
    source: str | None = None,
) -> Booking:
    """One Cal.com booking as our `Booking` (statuses folded into ours, our placeholder email dropped).

    Its text is made safe to store, like a webhook's: what Cal.com holds was typed by whoever booked on
    its page, so NULs are removed and every field is cut to the mirror's width."""
    attendees = data.get("attendees") if isinstance(data.get("attendees"), list) else []
    first = attendees[0] if attendees and isinstance(attendees[0], dict) else {}
    responses = data.get("bookingFieldsResponses") if isinstance(data.get("bookingFieldsResponses"), dict) else {}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    status = str(data.get("status") or "accepted").lower()
    payment_link = payment_link_from(data, payment_base_url)
    if status in ("pending", "unconfirmed") and (payment_link or (info is not None and info.price > 0)):
        status = "awaiting_payment"
    if status == "cancelled" and data.get("rescheduledToUid"):
        status = "rescheduled"
    if status not in ("accepted", "pending", "awaiting_payment", "cancelled", "rejected", "rescheduled"):
        status = "pending"
    address = None
    if info is not None and info.address_field:
        address = responses.get(info.address_field)
    location = data.get("location")
    if address is None and isinstance(location, str) and location and not location.startswith("http"):
        address = location
    notes = responses.get("notes") if isinstance(responses.get("notes"), str) else None
    email = first.get("email") or None
    if email and email.endswith("@" + business.placeholder_email_domain):
        email = None  # our placeholder, not the caller's address
    phone = first.get("phoneNumber")
    return Booking(
        uid=clean_text(str(data["uid"]), 128) or "",
        business=business.slug,
        service=service[:64],
        start=parse_time(data["start"]),
        end=parse_time(data["end"]),
        status=status,  # type: ignore[arg-type]
        name=clean_text(first.get("name"), 200),
        phone=try_e164(phone) if isinstance(phone, str) else None,
        email=clean_text(email, 254),
        address=clean_text(address, 2000),
        notes=clean_text(notes, 2000),
        team_member=clean_text(host_name(business, data.get("hosts") or []), 128),
        payment_link=clean_text(payment_link, 2000),
        rescheduled_from=clean_text(data.get("rescheduledFromUid"), 128),
        call_id=clean_text(metadata.get(META_CALL_ID), 64),
        source=source or _known_source(metadata.get(META_SOURCE)),
        extra={
            "id": data.get("id"),
            "rescheduledToUid": clean_text(data.get("rescheduledToUid"), 128),
            "cancellationReason": clean_text(data.get("cancellationReason"), 2000),
            "metadata": {
                k: clean_text(v, 500) for k, v in metadata.items() if isinstance(k, str) and clean_text(v, 500)
            },
        },
    )


def _known_source(claimed: Any) -> str:
    return claimed if claimed in ("call", "sms", "cli", "simulate") else "calcom"


def host_name(business: Business, hosts: list[dict[str, Any]]) -> str | None:
    """The team member Cal.com assigned (round robin) or the first host (collective)."""
    if not hosts or not business.team:
        return None
    for host in hosts:
        for member in business.team:
            if member.calcom_user_id is not None and member.calcom_user_id == host.get("id"):
                return member.name
    for host in hosts:
        for member in business.team:
            if str(host.get("name", "")).lower() == member.name.lower():
                return member.name
    return str(hosts[0].get("name")) if hosts[0].get("name") else None


def payment_link_from(data: dict[str, Any], base: str) -> str | None:
    # The 2025-10 v2 spec's BookingOutput has no payment field; the hosted API's paid-booking answer is
    # unverified here, so read the places it may appear and build the payment page from a payment uid.
    for key in ("paymentLink", "paymentUrl"):
        if isinstance(data.get(key), str):
            return data[key]
    metadata = data.get("metadata") or {}
    if isinstance(metadata.get("paymentLink"), str):
        return metadata["paymentLink"]
    if isinstance(data.get("paymentUid"), str):
        return f"{base}/payment/{data['paymentUid']}"
    return None


def dedupe_bookings(bookings: list[Booking]) -> list[Booking]:
    seen: set[str] = set()
    out = []
    for booking in bookings:
        if booking.uid not in seen:
            seen.add(booking.uid)
            out.append(booking)
    return out
