"""`CalcomCalendar`: the calendar port on Cal.com API v2.

HTTP details live in `calcom_http`, the JSON mapping in `calcom_json`, the create that survives a lost answer
in `calcom_create`, the mirror writes in `calcom_mirror`, the time-off math in `calcom_overrides`. Slots are
asked for as a UTC range covering the business-local window (Cal.com reads start/end as UTC and `timeZone`
only shapes the output). Every booking we make or change is written to the store's bookings mirror
(`BookingRecord`, backend "calcom").
"""

from __future__ import annotations

import logging
import os
import random
import re
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from silentpartner.business import Business, Service
from silentpartner.calendar import calcom_overrides
from silentpartner.calendar.calcom_create import create_booking
from silentpartner.calendar.calcom_http import (
    VERSION_BOOKINGS,
    VERSION_EVENT_TYPES,
    VERSION_SCHEDULES,
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
    whole_number,
)
from silentpartner.calendar.calcom_mirror import mark_rescheduled, mirror_booking
from silentpartner.calendar.calcom_overrides import Change, Schedule, ScheduleUnreadable
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
LONGEST_TIME_OFF = timedelta(days=366)
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

    # -- time off -----------------------------------------------------------------------------------
    # An individual account has nothing like a "busy block" an API key can write (out-of-office entries are
    # organization-only in API v2), so time off is written as date overrides on the key owner's schedules.
    # Cal.com takes the overrides list whole and has no version check: an edit the owner makes in Cal.com
    # between our read and our write of the same schedule is lost.

    async def block(self, start: datetime, end: datetime, *, team_member: str | None, reason: str) -> None:
        """Take [start, end) off the key owner's hours. Cal.com's overrides carry no reason: it is logged."""
        start, end = _time_off_span(start, end)
        days = await self._change_hours(calcom_overrides.block, start, end, team_member)
        log_event(
            log,
            "calcom.time_off_blocked",
            business=self.business.slug,
            start=utc_z(start),
            end=utc_z(end),
            days=len(days),
            reason=reason[:256],
        )

    async def reopen(self, start: datetime, end: datetime, *, team_member: str | None) -> int:
        """Give [start, end) back, up to the weekly hours; the number of dates whose override changed."""
        start, end = _time_off_span(start, end)
        days = await self._change_hours(calcom_overrides.reopen, start, end, team_member)
        log_event(
            log,
            "calcom.time_off_reopened",
            business=self.business.slug,
            start=utc_z(start),
            end=utc_z(end),
            days=len(days),
        )
        return len(days)

    async def _change_hours(
        self,
        change: Callable[[Schedule, datetime, datetime], Change],
        start: datetime,
        end: datetime,
        team_member: str | None,
    ) -> set[date]:
        self._key_owner_only(team_member)
        # Every schedule is read before any is written, so a schedule we may not touch stops the whole change.
        changes = [(schedule, change(schedule, start, end)) for schedule in await self._key_owner_schedules()]
        days: set[date] = set()
        for schedule, result in changes:
            if result.days:
                await self.client.data(
                    "PATCH",
                    f"/v2/schedules/{schedule.id}",
                    version=VERSION_SCHEDULES,
                    json={"overrides": result.overrides},
                    idempotent=True,  # the whole list is sent: a repeat writes the same thing
                )
                days.update(result.days)
        return days

    def _key_owner_only(self, team_member: str | None) -> None:
        """An API key can change only its owner's schedules; the business's first team member is that owner.

        None (closing the whole business) therefore closes the key owner's hours too: a team event type's
        other hosts keep theirs, and only they (or an admin) can change those in Cal.com."""
        if team_member is None:
            return
        owner = self.business.team[0].name if self.business.team else None
        if owner is not None and " ".join(team_member.split()).casefold() == owner.casefold():
            return
        who = f"{owner}'s" if owner else "its owner's"
        raise InvalidRequest(
            f"time off for {' '.join(team_member.split())[:64]} has to be set in Cal.com (Availability, date "
            f"overrides): the Cal.com API key here can only change {who} hours"
        )

    async def _key_owner_schedules(self) -> list[Schedule]:
        """The key owner's default schedule, and the schedules the business's own event types are pinned to
        (an event type with a schedule of its own does not see the default schedule's overrides)."""
        default_data = await self.client.data("GET", "/v2/schedules/default", version=VERSION_SCHEDULES)
        if not default_data:
            raise InvalidRequest(
                "the Cal.com account of this API key has no default schedule: pick one in Cal.com (Availability) "
                "or set the time off there"
            )
        default = _readable(default_data)
        owner = self.business.team[0] if self.business.team else None
        if owner is not None and owner.calcom_user_id is not None and default.owner_id != owner.calcom_user_id:
            raise InvalidRequest(
                f"the Cal.com API key belongs to user {default.owner_id}, not {owner.name} (calcom_user_id "
                f"{owner.calcom_user_id}): set the time off in Cal.com, or use {owner.name}'s key"
            )
        schedules = [default]
        for service, schedule_id in await self._pinned_schedules(default.owner_id):
            if any(s.id == schedule_id for s in schedules):
                continue
            try:
                data = await self.client.data("GET", f"/v2/schedules/{schedule_id}", version=VERSION_SCHEDULES)
            except (NotFound, InvalidRequest) as exc:
                raise InvalidRequest(
                    f"service {service} uses Cal.com schedule {schedule_id}, which this API key cannot change "
                    f"({exc}): set the time off in Cal.com"
                ) from None
            schedules.append(_readable(data))
        return schedules

    async def _pinned_schedules(self, owner_id: int | None) -> list[tuple[str, int]]:
        """(service, schedule id) for each of the business's individual event types, owned by the key owner,
        that names a schedule. A team event type's schedule is shared by its hosts: changing it would take
        the other hosts off too, so it is left to Cal.com."""
        out = []
        for service in self.business.services:
            if service.calcom_event_type_id is None:
                continue
            try:
                raw = (await self.event_type(service.calcom_event_type_id)).raw
            except NotFound:
                continue  # gone from Cal.com: it offers no times to close
            schedule_id, owner = raw.get("scheduleId"), raw.get("ownerId")
            if not whole_number(schedule_id) or raw.get("schedulingType") or raw.get("teamId"):
                continue
            if not whole_number(owner) or int(owner) != owner_id:
                continue
            out.append((service.slug, int(schedule_id)))
        return out

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


def _time_off_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidRequest("time off needs timezone-aware start and end")
    if end <= start:
        raise InvalidRequest("time off must end after it starts")
    if end - start > LONGEST_TIME_OFF:
        raise InvalidRequest("time off longer than a year has to be set in Cal.com")
    return start, end


def _readable(data: Any) -> Schedule:
    try:
        return Schedule.from_json(data)
    except ScheduleUnreadable as exc:
        raise InvalidRequest(
            f"Cal.com answered a schedule this cannot read ({exc}): set the time off in Cal.com"
        ) from None
