"""`CalcomCalendar`: the calendar port on Cal.com API v2.

HTTP details live in `calcom_http`, the JSON mapping in `calcom_json`, the create that survives a lost
answer in `calcom_create`, the mirror writes in `calcom_mirror`. Slots are asked for as a UTC range
covering the business-local window (Cal.com reads start/end as UTC and `timeZone` only shapes the output).
Every booking we make or change is written to the store's bookings mirror (`BookingRecord`, backend "calcom").
"""

from __future__ import annotations

import logging
import os
import random
import re
import uuid
import weakref
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from silentpartner.business import Business, Service
from silentpartner.calendar.calcom_create import create_booking
from silentpartner.calendar.calcom_http import (
    VERSION_BOOKINGS,
    VERSION_EVENT_TYPES,
    VERSION_SLOTS,
    CalcomClient,
    OutcomeUnknown,
    RateLimiter,
    RetryPolicy,
    Sleep,
)
from silentpartner.calendar.calcom_json import (
    META_CALL_ID,
    META_SOURCE,
    EventTypeInfo,
    booking_body,
    booking_from_json,
    dedupe_bookings,
    parse_slots,
    parse_time,
    utc_z,
)
from silentpartner.calendar.calcom_mirror import mark_rescheduled, mirror_booking
from silentpartner.calendar.port import (
    Booking,
    BookingNotConfirmed,
    BookingRequest,
    CalendarError,
    CalendarUnavailable,
    Hold,
    InvalidRequest,
    NotFound,
    ServiceInfo,
    Slot,
)
from silentpartner.clock import Clock
from silentpartner.logs import log_event
from silentpartner.phones import InvalidPhoneNumber, to_e164
from silentpartner.settings import ConfigError
from silentpartner.store.db import Database

# META_CALL_ID and META_SOURCE are re-exported: callers know them as the Cal.com backend's metadata keys.
__all__ = ["META_CALL_ID", "META_SOURCE", "WEBHOOK_TRIGGERS", "CalcomCalendar", "api_key_for"]

WEBHOOK_TRIGGERS = [
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "BOOKING_REJECTED",
    "BOOKING_PAYMENT_INITIATED",
    "BOOKING_PAID",
    "MEETING_ENDED",
]
EVENT_TYPE_TTL = timedelta(minutes=10)
log = logging.getLogger(__name__)
_LIMITERS: weakref.WeakKeyDictionary[httpx.AsyncClient, dict[str, RateLimiter]] = weakref.WeakKeyDictionary()


def not_what_was_asked(booking: Booking, request: BookingRequest) -> str | None:
    """Why Cal.com's answer to a create is not the booking asked for, or None when it is."""
    if booking.status in ("cancelled", "rejected", "rescheduled"):
        return f"with status {booking.status}"
    if booking.start != request.start:
        return f"for {utc_z(booking.start)} instead of {utc_z(request.start)}"
    return None


def api_key_for(business: Business, settings: Any) -> str | None:
    """The key named by `business.calcom_api_key_env` (CALCOM_API_KEY by default)."""
    name = business.calcom_api_key_env
    if name.upper() == "CALCOM_API_KEY" and settings is not None and settings.secret("calcom_api_key"):
        return settings.secret("calcom_api_key")
    return os.environ.get(name) or None


class CalcomCalendar:
    backend = "calcom"

    def __init__(
        self,
        business: Business,
        client: CalcomClient,
        db: Database | None,
        clock: Clock,
        *,
        payment_base_url: str = "https://app.cal.com",
    ) -> None:
        self.business = business
        self.client = client
        self.db = db
        self.clock = clock
        self.payment_base_url = payment_base_url.rstrip("/")
        self._event_types: dict[int, EventTypeInfo] = {}
        self.page_size = 100  # bookings per list page (Cal.com's default `take`)

    @classmethod
    def from_settings(
        cls,
        business: Business,
        settings: Any,
        http_client: httpx.AsyncClient,
        db: Database | None,
        clock: Clock,
        *,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        timeout: float = 10.0,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> CalcomCalendar:
        key = api_key_for(business, settings)
        if not key:
            raise ConfigError(
                f"{business.calcom_api_key_env}: business {business.slug} uses Cal.com but the key is not set; "
                "create an API key in Cal.com (Settings > Developer > API keys) and set it"
            )
        if limiter is None:
            # Cal.com counts per key: businesses sharing a key (and this HTTP client) share one limiter.
            per_client = _LIMITERS.setdefault(http_client, {})
            limiter = per_client.setdefault(key, RateLimiter(sleep=sleep) if sleep is not None else RateLimiter())
        kwargs: dict[str, Any] = {"timeout": timeout, "rng": rng, "limiter": limiter, "retry": retry}
        if sleep is not None:
            kwargs["sleep"] = sleep
        client = CalcomClient(settings.calcom_api_url, key, http_client, **kwargs)
        return cls(business, client, db, clock)

    # -- event types --------------------------------------------------------------------------------

    def _service(self, slug: str) -> Service:
        try:
            service = self.business.service(slug)
        except KeyError:
            raise InvalidRequest(f"business {self.business.slug} has no service {slug!r}") from None
        if service.calcom_event_type_id is None:
            raise InvalidRequest(f"service {slug!r} has no calcom_event_type_id")
        return service

    async def event_type(self, event_type_id: int, *, refresh: bool = False) -> EventTypeInfo:
        """The event type's settings, re-read after EVENT_TYPE_TTL (the owner may change its form)."""
        cached = self._event_types.get(event_type_id)
        now = self.clock.now()
        if refresh or cached is None or now - cached.fetched_at >= EVENT_TYPE_TTL:
            data = await self.client.data("GET", f"/v2/event-types/{event_type_id}", version=VERSION_EVENT_TYPES)
            cached = self._event_types[event_type_id] = EventTypeInfo(data, fetched_at=now)
        return cached

    async def list_services(self) -> list[ServiceInfo]:
        out = []
        for service in self.business.services:
            assert service.calcom_event_type_id is not None
            info = await self.event_type(service.calcom_event_type_id)
            out.append(
                ServiceInfo(
                    slug=service.slug,
                    name=service.name,
                    duration_minutes=info.length or service.duration_minutes,
                    event_type_id=info.id,
                    requires_email=info.requires_email,
                    deposit=info.price or service.deposit,
                )
            )
        return out

    # -- slots --------------------------------------------------------------------------------------

    def slot_id(self, service: str, start: datetime) -> str:
        return f"calcom:{service}:{utc_z(start)}"

    async def find_slots(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        team_member: str | None = None,
        reschedule_uid: str | None = None,
    ) -> list[Slot]:
        svc = self._service(service)
        params: list[tuple[str, str]] = [
            ("eventTypeId", str(svc.calcom_event_type_id)),
            ("start", utc_z(start)),
            ("end", utc_z(end)),
            ("timeZone", self.business.timezone),
            ("format", "range"),
        ]
        if reschedule_uid:
            params.append(("bookingUidToReschedule", reschedule_uid))
        data = await self.client.data("GET", "/v2/slots", version=VERSION_SLOTS, params=params)
        # GET /v2/slots cannot narrow a team event type to one host: Cal.com assigns the host when the
        # booking is made (read back from the response), so slots never claim a team member.
        slots = []
        for slot_start, slot_end in parse_slots(data, svc.duration):
            if start <= slot_start < end:
                slots.append(
                    Slot(id=self.slot_id(service, slot_start), service=service, start=slot_start, end=slot_end)
                )
        slots.sort(key=lambda s: s.start)
        return slots

    async def hold(self, slot: Slot, *, holder: str | None = None) -> Hold:
        svc = self._service(slot.service)
        body = {
            "eventTypeId": svc.calcom_event_type_id,
            "slotStart": utc_z(slot.start),
            "reservationDuration": self.business.hold_minutes,
        }
        data = await self.client.data("POST", "/v2/slots/reservations", version=VERSION_SLOTS, json=body)
        until = data.get("reservationUntil")
        expires = parse_time(until) if until else self.clock.now() + timedelta(minutes=self.business.hold_minutes)
        return Hold(id=str(data["reservationUid"]), slot=slot, expires_at=expires)

    async def release(self, hold_id: str) -> None:
        try:
            await self.client.data("DELETE", f"/v2/slots/reservations/{hold_id}", version=VERSION_SLOTS)
        except NotFound:
            pass  # expired or already released: the slot is free either way

    # -- booking ------------------------------------------------------------------------------------

    async def _attendee_email(self, info: EventTypeInfo, phone: str, given: str | None) -> str | None:
        if given:
            return given
        if not info.requires_email:
            return None
        if self.business.email_fallback == "refuse":
            raise InvalidRequest(
                f"event type {info.id} requires an email and business {self.business.slug} refuses placeholders: "
                "make the email booking field optional (or hidden) in Cal.com"
            )
        digits = re.sub(r"\D", "", phone)
        return f"{digits}@{self.business.placeholder_email_domain}"

    async def book(self, request: BookingRequest) -> Booking:
        svc = self._service(request.service)
        assert svc.calcom_event_type_id is not None
        try:
            phone = to_e164(request.phone)
        except InvalidPhoneNumber as exc:
            raise InvalidRequest(str(exc)) from None
        info = await self.event_type(svc.calcom_event_type_id)
        email = await self._attendee_email(info, phone, request.email)
        request_id = uuid.uuid4().hex
        body = booking_body(
            request,
            info,
            event_type_id=svc.calcom_event_type_id,
            time_zone=self.business.timezone,
            phone=phone,
            email=email,
            request_id=request_id,
        )
        data = await create_booking(self.client, body, request, request_id, service=svc, page_size=self.page_size)
        booking = booking_from_json(
            data, self.business, request.service, info, payment_base_url=self.payment_base_url, source=request.source
        )
        if request.hold_id:
            await self._release_quietly(request.hold_id)
        problem = not_what_was_asked(booking, request)
        if problem is not None:
            await self._withdraw(booking, problem)
            raise BookingNotConfirmed(f"Cal.com answered booking {booking.uid} {problem}")
        await mirror_booking(self.db, self.clock, self.business.slug, booking)
        return booking

    async def _withdraw(self, booking: Booking, problem: str) -> None:
        """A booking Cal.com made at a time the caller never agreed to is cancelled, not left for the owner
        to drive to; one it answered cancelled or rejected is already gone."""
        log_event(log, "calcom.booking_not_confirmed", logging.WARNING, uid=booking.uid, problem=problem)
        if not booking.is_active:
            return
        try:
            await self.cancel(booking.uid, f"Booked by the receptionist {problem}; the caller was not told")
        except CalendarError as exc:
            log_event(log, "calcom.withdraw_failed", logging.ERROR, uid=booking.uid, error=str(exc))

    async def _release_quietly(self, hold_id: str) -> None:
        try:
            await self.release(hold_id)
        except CalendarUnavailable:
            pass  # the reservation expires by itself in a few minutes

    # -- reading ------------------------------------------------------------------------------------

    async def get_booking(self, uid: str) -> Booking:
        data = await self.client.data("GET", f"/v2/bookings/{uid}", version=VERSION_BOOKINGS)
        if isinstance(data, list):
            if not data:
                raise NotFound(uid)
            data = data[0]
        return await self._to_booking(data)

    async def bookings_for_attendee(
        self, phone: str, *, name: str | None = None, include_past: bool = False
    ) -> list[Booking]:
        """Our event types' bookings whose attendee has this phone (and, if given, this name).

        Cal.com cannot filter by phone, so the name narrows the query where known and the phone is
        matched here, page by page."""
        try:
            phone = to_e164(phone)
        except InvalidPhoneNumber:
            return []
        params = self._event_type_filter()
        params += [("status", "upcoming"), ("status", "unconfirmed")]
        if include_past:
            params += [("status", "past"), ("status", "cancelled")]
        if name:
            params.append(("attendeeName", name))
        params.append(("sortStart", "asc"))
        out = []
        async for item in self.client.paginate(
            "/v2/bookings", version=VERSION_BOOKINGS, params=params, take=self.page_size
        ):
            if any(a.get("phoneNumber") == phone for a in item.get("attendees") or []):
                booking = await self._to_booking(item)
                if booking.is_active or include_past:
                    out.append(booking)
        now = self.clock.now()
        out.sort(key=lambda b: (b.start < now, b.start.timestamp() if b.start >= now else -b.start.timestamp()))
        return dedupe_bookings(out)

    async def bookings_for_phone(self, phone: str, *, include_past: bool = False) -> list[Booking]:
        return await self.bookings_for_attendee(phone, include_past=include_past)

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        params = self._event_type_filter()
        params += [("afterStart", utc_z(start)), ("beforeEnd", utc_z(end + timedelta(days=1)))]
        params.append(("sortStart", "asc"))
        out = []
        async for item in self.client.paginate(
            "/v2/bookings", version=VERSION_BOOKINGS, params=params, take=self.page_size
        ):
            booking = await self._to_booking(item)
            if booking.is_active and start <= booking.start < end:
                out.append(booking)
        return dedupe_bookings(out)

    async def list_bookings_updated_since(self, after_updated_at: datetime) -> list[Booking]:
        """Every booking of our event types changed after `after_updated_at` (the reconcile job)."""
        params = self._event_type_filter()
        params += [("afterUpdatedAt", utc_z(after_updated_at)), ("sortUpdatedAt", "asc")]
        return [
            await self._to_booking(item)
            async for item in self.client.paginate(
                "/v2/bookings", version=VERSION_BOOKINGS, params=params, take=self.page_size
            )
        ]

    def _event_type_filter(self) -> list[tuple[str, str]]:
        ids = [str(s.calcom_event_type_id) for s in self.business.services if s.calcom_event_type_id is not None]
        return [("eventTypeIds", ",".join(ids))] if ids else []

    # -- changing -----------------------------------------------------------------------------------

    async def cancel(self, uid: str, reason: str) -> Booking:
        if not reason or not reason.strip():
            raise InvalidRequest("a cancellation reason is required (Cal.com insists when the host cancels)")
        try:
            data = await self.client.data(
                "POST",
                f"/v2/bookings/{uid}/cancel",
                version=VERSION_BOOKINGS,
                json={"cancellationReason": reason.strip()},
                idempotent=True,  # a repeat has no second effect: it answers "already cancelled"
            )
        except InvalidRequest as exc:
            # A retry after a lost answer (or a second request) finds it done: that is success.
            if "already been cancelled" not in str(exc):
                raise
            data = await self.client.data("GET", f"/v2/bookings/{uid}", version=VERSION_BOOKINGS)
        booking = await self._to_booking(data)
        await mirror_booking(self.db, self.clock, self.business.slug, booking)
        return booking

    async def reschedule(
        self, uid: str, new_start: datetime, *, reason: str | None = None, hold_id: str | None = None
    ) -> Booking:
        body: dict[str, Any] = {"start": utc_z(new_start)}
        if reason:
            body["reschedulingReason"] = reason
        try:
            data = await self.client.data("POST", f"/v2/bookings/{uid}/reschedule", version=VERSION_BOOKINGS, json=body)
        except OutcomeUnknown:
            # Did it happen? The old booking then points at its replacement.
            old = await self.client.data("GET", f"/v2/bookings/{uid}", version=VERSION_BOOKINGS)
            new_uid = old.get("rescheduledToUid") if isinstance(old, dict) else None
            if not new_uid:
                data = await self.client.data(
                    "POST", f"/v2/bookings/{uid}/reschedule", version=VERSION_BOOKINGS, json=body
                )
            else:
                data = await self.client.data("GET", f"/v2/bookings/{new_uid}", version=VERSION_BOOKINGS)
        booking = await self._to_booking(data)
        if booking.rescheduled_from is None:
            booking = replace(booking, rescheduled_from=uid)
        if hold_id:
            await self._release_quietly(hold_id)
        await mirror_booking(self.db, self.clock, self.business.slug, booking)
        await mark_rescheduled(self.db, self.clock, uid, booking.uid)
        return booking

    async def ensure_webhook(self, subscriber_url: str, secret: str, triggers: list[str] | None = None):
        return await self.client.ensure_webhook(subscriber_url, secret, triggers or WEBHOOK_TRIGGERS)

    async def ping(self) -> dict[str, Any]:
        """GET /v2/me: is the key good and Cal.com answering?"""
        return await self.client.data("GET", "/v2/me", version=None)

    async def close(self) -> None:
        return None  # the HTTP client belongs to the runtime

    # -- translation --------------------------------------------------------------------------------

    def _service_for_event_type(self, event_type_id: Any) -> str | None:
        for service in self.business.services:
            if event_type_id is not None and service.calcom_event_type_id == int(event_type_id):
                return service.slug
        return None

    async def _to_booking(self, data: dict[str, Any]) -> Booking:
        et = (data.get("eventType") or {}).get("id") or data.get("eventTypeId")
        service = self._service_for_event_type(et) or str(et)
        info = self._event_types.get(int(et)) if et is not None else None
        return booking_from_json(data, self.business, service, info, payment_base_url=self.payment_base_url)
