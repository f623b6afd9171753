"""POST /v2/bookings at most once: when Cal.com's answer is lost, look for the booking before trying again.

A create carries our request id (and call id) in `metadata`, so the booking a lost answer may have made
can be recognised among the attendee's bookings at that start.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from silentpartner.business import Service
from silentpartner.calendar.calcom_http import VERSION_BOOKINGS, CalcomClient, OutcomeUnknown
from silentpartner.calendar.calcom_json import META_CALL_ID, META_REQUEST_ID, parse_time, utc_z
from silentpartner.calendar.port import BookingRequest, CalendarUnavailable, SlotUnavailable
from silentpartner.phones import to_e164

CREATE_ATTEMPTS = 3


async def create_booking(
    client: CalcomClient,
    body: dict[str, Any],
    request: BookingRequest,
    request_id: str,
    *,
    service: Service,
    page_size: int,
) -> dict[str, Any]:
    """POST /v2/bookings; when the outcome is unknown, look before trying again."""
    unknown_before = False
    for attempt in range(CREATE_ATTEMPTS):
        try:
            data = await client.data("POST", "/v2/bookings", version=VERSION_BOOKINGS, json=body)
            return data[0] if isinstance(data, list) else data
        except SlotUnavailable:
            # After a lost answer, "taken" may mean taken by our own first attempt that the lookup
            # did not see yet: look once more before telling the caller the time has gone.
            if unknown_before:
                found = await find_created(client, request, request_id, service=service, page_size=page_size)
                if found is not None:
                    return found
            raise
        except OutcomeUnknown:
            unknown_before = True
            found = await find_created(client, request, request_id, service=service, page_size=page_size)
            if found is not None:
                return found
            if attempt + 1 == CREATE_ATTEMPTS:
                raise
    raise CalendarUnavailable("Cal.com did not confirm the booking")


async def find_created(
    client: CalcomClient, request: BookingRequest, request_id: str, *, service: Service, page_size: int
) -> dict[str, Any] | None:
    """The booking a lost create may have made: same attendee phone, same start, our ids in metadata."""
    start = request.start.astimezone(UTC)
    params = [
        ("eventTypeId", str(service.calcom_event_type_id)),
        ("afterStart", utc_z(start - timedelta(seconds=1))),
        ("beforeEnd", utc_z(start + service.duration + timedelta(days=1))),
        ("attendeeName", request.name),
    ]
    phone = to_e164(request.phone)
    async for item in client.paginate("/v2/bookings", version=VERSION_BOOKINGS, params=params, take=page_size):
        metadata = item.get("metadata") or {}
        phones = {a.get("phoneNumber") for a in item.get("attendees") or []}
        same_request = metadata.get(META_REQUEST_ID) == request_id
        same_call = request.call_id is not None and metadata.get(META_CALL_ID) == request.call_id
        if (
            parse_time(item["start"]) == start
            and phone in phones
            and (same_request or same_call)
            and item.get("status") != "cancelled"
        ):
            return item
    return None
