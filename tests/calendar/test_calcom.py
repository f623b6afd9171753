"""The Cal.com API v2 backend against a local Cal.com v2 server that validates every request against the
OpenAPI spec (`tests/support/fake_calcom.py`). Time inside the client (limiter, backoff) is virtual."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from silentpartner.business import Business, Businesses, Service, TeamMember
from silentpartner.calendar import patience
from silentpartner.calendar.calcom import CalcomCalendar
from silentpartner.calendar.calcom_doctor import check_calcom
from silentpartner.calendar.calcom_http import (
    MAX_PAGES,
    RATE_LIMIT_BLOCK_SECONDS,
    CalcomClient,
    RateLimited,
    RateLimiter,
    RetryPolicy,
    error_message,
    map_error,
    rate_limit_wait,
)
from silentpartner.calendar.calcom_json import parse_slots
from silentpartner.calendar.port import (
    BookingNotConfirmed,
    BookingRequest,
    CalendarPort,
    CalendarUnavailable,
    InvalidRequest,
    NotFound,
    OutsideBookingWindow,
    Slot,
    SlotUnavailable,
)
from silentpartner.clock import FixedClock
from silentpartner.runtime import Runtime
from silentpartner.settings import Settings
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord
from tests.support.fake_calcom import SPEC_PATH, EventType, FakeCalcom, Host
from tests.support.servers import LiveServer

KEY = "cal_test_key"
PDX = ZoneInfo("America/Los_Angeles")
MIKE = Host(11, "Mike", "mike@example.com", "mike")
DANA = Host(12, "Dana", "dana@example.com", "dana")
CALLER = "+15035550111"


class VirtualTime:
    """Monotonic time that only moves when the code under test sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def calcom_business(demo: Business, **changes) -> Business:
    services = (
        Service(slug="service-call", name="service call", duration_minutes=60, calcom_event_type_id=101),
        Service(slug="emergency", name="emergency call-out", duration_minutes=60, calcom_event_type_id=102),
        Service(slug="estimate", name="free estimate", duration_minutes=30, calcom_event_type_id=103),
        Service(
            slug="install", name="water heater install", duration_minutes=120, deposit=50, calcom_event_type_id=104
        ),
        Service(slug="drain", name="drain clearing", duration_minutes=60, calcom_event_type_id=105),
        Service(slug="big-job", name="big job", duration_minutes=60, calcom_event_type_id=106),
    )
    team = (TeamMember(name="Mike", calcom_user_id=11), TeamMember(name="Dana", calcom_user_id=12))
    return demo.model_copy(update={"calendar": "calcom", "services": services, "team": team, **changes})


def event_types() -> list[EventType]:
    every_day = {d: [(7 * 60, 21 * 60)] for d in range(7)}
    return [
        EventType(105, "drain", "Drain clearing", 60, requires_email=False, attendee_address_location=True),
        EventType(
            106, "big-job", "Big job", 60, requires_email=False, hosts=[MIKE, DANA], scheduling_type="collective"
        ),
        EventType(
            101,
            "service-call",
            "Service call",
            60,
            after_buffer=15,
            minimum_notice=120,
            requires_email=False,
            address_field="address",
            hosts=[MIKE],
        ),
        EventType(102, "emergency", "Emergency", 60, availability=every_day, requires_email=True, hosts=[MIKE]),
        EventType(
            103, "estimate", "Estimate", 30, requires_email=False, hosts=[MIKE, DANA], scheduling_type="roundRobin"
        ),
        EventType(104, "install", "Install", 120, requires_email=False, price=5000, hosts=[MIKE]),
    ]


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeCalcom]:
    assert SPEC_PATH.is_file(), f"missing Cal.com validation spec {SPEC_PATH}: these tests cannot run without it"
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,))
    for et in event_types():
        fake.add_event_type(et)
    with fake.running():
        yield fake


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


@pytest.fixture
def vtime() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make_calendar(fake, business, http, db, clock, vtime, *, timeout: float = 5.0) -> CalcomCalendar:
    client = CalcomClient(
        fake.url,
        KEY,
        http,
        limiter=RateLimiter(monotonic=vtime.monotonic, sleep=vtime.sleep),
        rng=random.Random(7),
        sleep=vtime.sleep,
        timeout=timeout,
    )
    return CalcomCalendar(business, client, db, clock, payment_base_url="https://app.cal.test")


@pytest.fixture
def business(demo: Business) -> Business:
    return calcom_business(demo)


@pytest.fixture
def cal(fake, business, http, db, clock, vtime) -> CalcomCalendar:
    return make_calendar(fake, business, http, db, clock, vtime)


def local(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=PDX)


def request(service="service-call", start=None, **kw) -> BookingRequest:
    return BookingRequest(
        service=service,
        start=start or local(2026, 11, 25, 9),
        name="Pat Caller",
        phone=kw.pop("phone", CALLER),
        call_id=kw.pop("call_id", "CA123"),
        **kw,
    )


# -- slots ------------------------------------------------------------------------------------------


async def test_is_a_calendar_port(cal):
    assert isinstance(cal, CalendarPort)


async def test_slots_local_day_as_utc_range_with_range_shape(cal, fake):
    slots = await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    method, path, query = fake.requests[-1]
    assert (method, path) == ("GET", "/v2/slots")
    params = httpx.QueryParams(query)
    assert params["start"] == "2026-11-25T08:00:00.000Z" and params["end"] == "2026-11-26T08:00:00.000Z"
    assert params["timeZone"] == "America/Los_Angeles" and params["format"] == "range"
    assert [s.start.astimezone(PDX).hour for s in slots] == list(range(8, 17))
    assert slots[0].start == datetime(2026, 11, 25, 16, tzinfo=UTC)
    assert all(s.end - s.start == timedelta(minutes=60) for s in slots)
    assert len({s.id for s in slots}) == len(slots)


async def test_slots_start_only_shape(cal, fake):
    fake.honour_range_format = False
    slots = await cal.find_slots("estimate", local(2026, 11, 25), local(2026, 11, 26))
    assert slots and all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_parse_slots_all_shapes():
    data = {
        "2026-11-25": [
            {"start": "2026-11-25T08:00:00.000-08:00"},
            {"start": "2026-11-25T09:00:00.000-08:00", "end": "2026-11-25T09:45:00.000-08:00"},
            "2026-11-25T10:00:00.000-08:00",
        ]
    }
    got = parse_slots(data, timedelta(minutes=60))
    assert got[0] == (datetime(2026, 11, 25, 16, tzinfo=UTC), datetime(2026, 11, 25, 17, tzinfo=UTC))
    assert got[1][1] - got[1][0] == timedelta(minutes=45)
    assert got[2][0] == datetime(2026, 11, 25, 18, tzinfo=UTC)


async def test_slots_across_spring_forward(cal, fake, clock):
    clock.set(datetime(2027, 3, 10, 18, tzinfo=UTC))
    slots = await cal.find_slots("service-call", local(2027, 3, 12), local(2027, 3, 16))
    params = httpx.QueryParams(fake.requests[-1][2])
    assert params["start"] == "2027-03-12T08:00:00.000Z"  # PST midnight
    assert params["end"] == "2027-03-16T07:00:00.000Z"  # PDT midnight
    firsts = {}
    for s in slots:
        firsts.setdefault(s.start.astimezone(PDX).date().isoformat(), s.start)
    assert firsts["2027-03-12"] == datetime(2027, 3, 12, 16, tzinfo=UTC)  # 08:00 PST
    assert firsts["2027-03-15"] == datetime(2027, 3, 15, 15, tzinfo=UTC)  # 08:00 PDT
    assert "2027-03-14" not in firsts  # Sunday


async def test_slots_across_fall_back(cal, fake, clock):
    clock.set(datetime(2026, 10, 28, 18, tzinfo=UTC))
    slots = await cal.find_slots("service-call", local(2026, 10, 30), local(2026, 11, 3))
    params = httpx.QueryParams(fake.requests[-1][2])
    assert (params["start"], params["end"]) == ("2026-10-30T07:00:00.000Z", "2026-11-03T08:00:00.000Z")
    firsts: dict[str, datetime] = {}
    for s in slots:
        firsts.setdefault(s.start.astimezone(PDX).date().isoformat(), s.start)
    assert firsts["2026-10-30"] == datetime(2026, 10, 30, 15, tzinfo=UTC)  # 08:00 PDT
    assert firsts["2026-11-02"] == datetime(2026, 11, 2, 16, tzinfo=UTC)  # 08:00 PST
    assert all(s.start.astimezone(PDX).hour in range(8, 17) for s in slots)


async def test_reschedule_slots_treat_the_booking_as_free(cal):
    booking = await cal.book(request())
    day = (local(2026, 11, 25), local(2026, 11, 26))
    plain = await cal.find_slots("service-call", *day)
    moving = await cal.find_slots("service-call", *day, reschedule_uid=booking.uid)
    assert booking.start not in {s.start for s in plain}
    assert booking.start in {s.start for s in moving}


# -- hold, book -------------------------------------------------------------------------------------


async def test_hold_and_release(cal, fake):
    slot = (await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26)))[0]
    hold = await cal.hold(slot, holder="CA1")
    assert hold.id in fake.reservations and hold.expires_at == fake.now() + timedelta(minutes=5)
    await cal.release(hold.id)
    assert hold.id not in fake.reservations
    await cal.release(hold.id)  # already gone: no error


async def test_book_phone_only_with_address_and_notes(cal, fake, db):
    booking = await cal.book(request(address="12 Oak St, Portland", notes="kitchen tap leaking"))
    sent = fake.bookings[booking.uid]
    assert sent["attendees"][0]["email"] == "" and sent["attendees"][0]["phoneNumber"] == CALLER
    assert sent["attendees"][0]["timeZone"] == "America/Los_Angeles"
    assert sent["bookingFieldsResponses"]["address"] == "12 Oak St, Portland"
    assert sent["bookingFieldsResponses"]["notes"] == "kitchen tap leaking"
    assert sent["metadata"]["silentpartnerCallId"] == "CA123"
    assert booking.status == "accepted" and booking.phone == CALLER and booking.email is None
    assert booking.address == "12 Oak St, Portland" and booking.call_id == "CA123"
    async with db.session() as session:
        row = (await session.execute(select(BookingRecord).where(BookingRecord.uid == booking.uid))).scalar_one()
    assert row.backend == "calcom" and row.attendee_phone == CALLER and row.call_sid == "CA123"
    assert row.start_at == datetime(2026, 11, 25, 17, tzinfo=UTC)


async def test_email_required_uses_placeholder(cal, fake):
    booking = await cal.book(request("emergency", local(2026, 11, 24, 15)))
    assert fake.bookings[booking.uid]["attendees"][0]["email"] == "15035550111@sms.silentpartner.invalid"
    assert booking.email is None


async def test_email_required_refused_by_policy(fake, demo, http, db, clock, vtime):
    cal = make_calendar(fake, calcom_business(demo, email_fallback="refuse"), http, db, clock, vtime)
    with pytest.raises(InvalidRequest, match="optional"):
        await cal.book(request("emergency", local(2026, 11, 24, 15)))
    assert fake.requests_to("POST", "/v2/bookings") == 0
    given = await cal.book(request("emergency", local(2026, 11, 24, 15), email="pat@example.com"))
    assert given.email == "pat@example.com"


async def test_taken_slot_is_slot_unavailable(cal):
    await cal.book(request())
    with pytest.raises(SlotUnavailable, match="already has booking"):
        await cal.book(request(phone="+15035550122"))
    # 10:00 is inside the 15-minute buffer after the 09:00-10:00 booking.
    slot = Slot(id="x", service="service-call", start=local(2026, 11, 25, 10), end=local(2026, 11, 25, 11))
    with pytest.raises(SlotUnavailable):
        await cal.hold(slot)


async def test_outside_booking_window(cal):
    with pytest.raises(OutsideBookingWindow):
        await cal.book(request(start=local(2026, 11, 24, 11)))  # inside the 2 h minimum notice
    with pytest.raises(OutsideBookingWindow):
        await cal.book(request(start=local(2027, 3, 1, 9)))  # beyond 60 days
    with pytest.raises(OutsideBookingWindow):
        await cal.book(request(start=local(2026, 11, 23, 9)))  # the past


async def test_address_goes_to_the_attendee_address_location_when_the_event_type_has_one(cal, fake):
    booking = await cal.book(request("drain", address="9 Elm St", notes="slow drain"))
    sent = fake.bookings[booking.uid]
    assert sent["location"] == "9 Elm St" and "address" not in sent["bookingFieldsResponses"]
    assert sent["bookingFieldsResponses"]["notes"] == "slow drain"
    assert booking.address == "9 Elm St"


async def test_booking_made_by_someone_else_holding_the_slot_is_refused(cal, fake, http):
    slot = (await cal.find_slots("service-call", local(2026, 11, 25, 9), local(2026, 11, 25, 10)))[0]
    fake.api_keys.add("cal_other_key")
    other = await http.post(
        fake.url + "/v2/slots/reservations",
        headers={"Authorization": "Bearer cal_other_key", "cal-api-version": "2024-09-04"},
        json={"eventTypeId": 101, "slotStart": "2026-11-25T17:00:00.000Z"},
    )
    assert other.status_code == 201
    assert slot.start not in {s.start for s in await cal.find_slots("service-call", slot.start, slot.end)}
    with pytest.raises(SlotUnavailable):
        await cal.book(request(start=slot.start))


# -- rate limits, retries, timeouts -----------------------------------------------------------------


async def test_429_backs_off_by_the_reset_header_then_succeeds(cal, fake, vtime):
    fake.inject("GET", "/v2/slots", "429", reset_seconds=3)
    slots = await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    assert slots
    assert fake.statuses.count(429) == 1
    assert any(abs(s - 3) < 0.01 for s in vtime.sleeps), vtime.sleeps


async def test_429_that_persists_gives_calendar_unavailable(cal, fake, vtime):
    fake.inject("GET", "/v2/slots", "429", count=10, reset_seconds=2)
    with pytest.raises(CalendarUnavailable, match="429"):
        await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    assert fake.statuses.count(429) == RetryPolicy().attempts
    assert sum(vtime.sleeps) >= 2 * (RetryPolicy().attempts - 1)


async def test_500_is_retried_then_gives_calendar_unavailable(cal, fake, vtime):
    fake.inject("GET", "/v2/slots", "500")
    assert await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    assert len(vtime.sleeps) == 1 and 0 <= vtime.sleeps[0] <= 0.5
    fake.inject("GET", "/v2/slots", "500", count=10)
    before = fake.requests_to("GET", "/v2/slots")
    with pytest.raises(CalendarUnavailable):
        await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    assert fake.requests_to("GET", "/v2/slots") - before == RetryPolicy().attempts


async def test_read_that_times_out_is_retried(fake, business, http, db, clock, vtime):
    cal = make_calendar(fake, business, http, db, clock, vtime, timeout=0.5)
    fake.inject("GET", "/v2/slots", "timeout_no_commit")
    assert await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
    assert fake.requests_to("GET", "/v2/slots") == 2 and len(vtime.sleeps) == 1


async def test_cancel_whose_answer_was_lost_is_retried_safely(fake, business, http, db, clock, vtime):
    cal = make_calendar(fake, business, http, db, clock, vtime, timeout=0.5)
    booking = await cal.book(request())
    fake.inject("POST", f"/v2/bookings/{booking.uid}/cancel", "commit_then_hang")
    cancelled = await cal.cancel(booking.uid, "caller cancelled")
    assert cancelled.status == "cancelled"
    assert fake.requests_to("POST", f"/v2/bookings/{booking.uid}/cancel") == 2


async def test_500_on_create_is_looked_up_not_blindly_retried(cal, fake):
    fake.inject("POST", "/v2/bookings", "500")
    booking = await cal.book(request())
    assert fake.requests_to("POST", "/v2/bookings") == 2
    assert [b["uid"] for b in fake.bookings.values()] == [booking.uid]


async def test_create_that_committed_but_timed_out_is_found_not_repeated(fake, business, http, db, clock, vtime):
    cal = make_calendar(fake, business, http, db, clock, vtime, timeout=0.5)
    await cal.event_type(101)
    fake.inject("POST", "/v2/bookings", "commit_then_hang")
    booking = await cal.book(request())
    assert fake.requests_to("POST", "/v2/bookings") == 1
    assert fake.requests_to("GET", "/v2/bookings") >= 1
    assert list(fake.bookings) == [booking.uid]


async def test_create_that_timed_out_without_committing_is_sent_again(fake, business, http, db, clock, vtime):
    cal = make_calendar(fake, business, http, db, clock, vtime, timeout=0.5)
    await cal.event_type(101)
    fake.inject("POST", "/v2/bookings", "timeout_no_commit")
    booking = await cal.book(request())
    assert fake.requests_to("POST", "/v2/bookings") == 2
    assert list(fake.bookings) == [booking.uid]


async def test_reschedule_that_timed_out_is_found_not_repeated(fake, business, http, db, clock, vtime):
    cal = make_calendar(fake, business, http, db, clock, vtime, timeout=0.5)
    original = await cal.book(request())
    fake.inject("POST", "/v2/bookings/", "commit_then_hang")
    moved = await cal.reschedule(original.uid, local(2026, 11, 27, 14))
    assert fake.requests_to("POST", f"/v2/bookings/{original.uid}/reschedule") == 1
    assert moved.rescheduled_from == original.uid and moved.start == local(2026, 11, 27, 14)
    assert len(fake.bookings) == 2


async def test_limiter_never_exceeds_the_window():
    vt = VirtualTime()
    limiter = RateLimiter(100, 60, monotonic=vt.monotonic, sleep=vt.sleep)
    times = []
    for _ in range(350):
        await limiter.acquire()
        times.append(vt.t)
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 60) <= 100
    assert times[-1] - times[0] >= 180  # 350 requests at 100 a minute span at least three windows


async def test_limiter_keeps_a_burst_under_the_servers_120_per_minute(clock, business, http, db):
    vt = VirtualTime()
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,), rate_limit=120, monotonic=vt.monotonic)
    for et in event_types():
        fake.add_event_type(et)
    server = fake.serve()
    try:
        cal = make_calendar(fake, business, http, db, clock, vt)
        for _ in range(130):
            await cal.ping()
    finally:
        server.stop()
    assert fake.statuses.count(200) == 130 and 429 not in fake.statuses
    assert vt.sleeps and vt.t - 1000.0 >= 60
    assert fake.spec_violations == []


async def test_without_the_limiter_the_server_does_answer_429(clock, business, http, db):
    vt = VirtualTime()
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,), rate_limit=5, monotonic=vt.monotonic)
    server = fake.serve()
    try:
        response = None
        for _ in range(6):
            response = await http.get(server.url + "/v2/me", headers={"Authorization": f"Bearer {KEY}"})
    finally:
        server.stop()
    assert response is not None and response.status_code == 429
    assert response.headers["X-RateLimit-Remaining-Default"] == "0"
    assert int(response.headers["X-RateLimit-Reset-Default"]) > 0
    assert response.json()["error"]["code"] == "ThrottlerException"


@pytest.fixture
def throttled(clock, vtime):
    """A Cal.com server that allows three requests a minute, on the test's virtual time."""
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,), rate_limit=3, monotonic=vtime.monotonic)
    for et in event_types():
        fake.add_event_type(et)
    with fake.running():
        yield fake


async def test_background_work_waits_out_the_whole_block_instead_of_retrying_into_it(
    throttled, business, http, db, clock, vtime
):
    cal = make_calendar(throttled, business, http, db, clock, vtime)
    for _ in range(4):
        await cal.ping()
    assert throttled.statuses.count(429) == 1  # the fourth was refused once, then waited out
    assert RATE_LIMIT_BLOCK_SECONDS in vtime.sleeps and throttled.statuses[-1] == 200


async def test_during_a_call_a_rate_limit_fails_fast_instead_of_a_minute_of_silence(
    throttled, business, http, db, clock, vtime
):
    cal = make_calendar(throttled, business, http, db, clock, vtime)
    with patience.interactive(2.0):
        for _ in range(3):
            await cal.ping()
        with pytest.raises(CalendarUnavailable, match="rate limiting") as refused:
            await cal.find_slots("service-call", local(2026, 11, 25), local(2026, 11, 26))
        assert isinstance(refused.value, RateLimited) and refused.value.seconds == RATE_LIMIT_BLOCK_SECONDS
        sent = len(throttled.requests)
        with pytest.raises(RateLimited):  # the next is refused here, without asking Cal.com again
            await cal.ping()
        assert len(throttled.requests) == sent
    assert vtime.sleeps == []
    await cal.ping()  # background work after the call waits the block out
    assert vtime.sleeps == [pytest.approx(RATE_LIMIT_BLOCK_SECONDS)]


def test_rate_limit_wait_reads_every_form():
    assert rate_limit_wait({"retry-after": "7"}, 0) == 7
    assert rate_limit_wait({"x-ratelimit-reset-default": "12"}, 0) == 12
    assert rate_limit_wait({"x-ratelimit-reset": "1751750100000"}, 1751750090) == pytest.approx(10)
    assert rate_limit_wait({}, 0) is None


def test_error_mapping_both_envelopes():
    nest = {
        "status": "error",
        "error": {
            "code": "BadRequestException",
            "message": "User either already has booking at this time or is not available",
        },
    }
    assert isinstance(map_error(400, nest), SlotUnavailable)
    assert isinstance(map_error(409, {"statusCode": 409, "message": "booking_conflict_error"}), SlotUnavailable)
    assert isinstance(map_error(400, {"message": "booking_time_out_of_bounds_error"}), OutsideBookingWindow)
    assert isinstance(map_error(404, {"statusCode": 404, "message": "nope"}), NotFound)
    assert isinstance(map_error(503, "down"), CalendarUnavailable)
    bad = map_error(400, {"statusCode": 400, "message": ["start must be a string"]})
    assert isinstance(bad, InvalidRequest) and "start must be a string" in str(bad)


# -- teams, payments --------------------------------------------------------------------------------


async def test_round_robin_host_is_read_from_the_response(cal):
    first = await cal.book(request("estimate", local(2026, 11, 25, 13)))
    second = await cal.book(request("estimate", local(2026, 11, 25, 13), phone="+15035550122"))
    assert {first.team_member, second.team_member} == {"Mike", "Dana"}
    with pytest.raises(SlotUnavailable, match="hosts"):
        await cal.book(request("estimate", local(2026, 11, 25, 13), phone="+15035550133"))


async def test_collective_team_booking_needs_every_host(cal):
    booking = await cal.book(request("big-job", local(2026, 11, 25, 10)))
    assert booking.team_member == "Mike"  # the first of the hosts who all attend
    await cal.book(request("estimate", local(2026, 11, 25, 11)))  # round robin gives it to Mike
    with pytest.raises(SlotUnavailable, match="hosts"):
        await cal.book(request("big-job", local(2026, 11, 25, 11), phone="+15035550122"))


async def test_deposit_booking_surfaces_the_payment_link(cal, db):
    booking = await cal.book(request("install", local(2026, 11, 26, 9)))
    assert booking.status == "awaiting_payment"
    assert booking.payment_link and booking.payment_link.startswith("https://app.cal.test/payment/")
    async with db.session() as session:
        row = (await session.execute(select(BookingRecord).where(BookingRecord.uid == booking.uid))).scalar_one()
    assert row.payment_link == booking.payment_link and row.status == "awaiting_payment"


# -- change, read, list -----------------------------------------------------------------------------


async def test_reschedule_cancel_and_get(cal, fake, db, clock):
    original = await cal.book(request())
    moved = await cal.reschedule(original.uid, local(2026, 11, 27, 14), reason="caller asked")
    assert moved.uid != original.uid and moved.rescheduled_from == original.uid
    assert moved.start == local(2026, 11, 27, 14)
    assert (await cal.get_booking(original.uid)).status == "rescheduled"
    with pytest.raises(InvalidRequest):
        await cal.cancel(moved.uid, "  ")
    cancelled = await cal.cancel(moved.uid, "no longer needed")
    assert cancelled.status == "cancelled" and fake.bookings[moved.uid]["cancellationReason"] == "no longer needed"
    again = await cal.cancel(moved.uid, "again")  # already done: not an error
    assert again.status == "cancelled" and fake.bookings[moved.uid]["cancellationReason"] == "no longer needed"
    with pytest.raises(NotFound):
        await cal.get_booking("no-such-uid")
    async with db.session() as session:
        rows = {r.uid: r for r in (await session.execute(select(BookingRecord))).scalars()}
    assert rows[original.uid].status == "rescheduled" and rows[original.uid].rescheduled_to == moved.uid
    assert rows[moved.uid].status == "cancelled" and rows[moved.uid].rescheduled_from == original.uid
    assert rows[moved.uid].cancellation_reason == "no longer needed"


async def test_list_by_phone_paginates_and_orders(cal, fake):
    cal.page_size = 2
    starts = [local(2026, 11, 30, 9), local(2026, 11, 25, 9), local(2026, 11, 27, 11), local(2026, 11, 26, 14)]
    for start in starts:
        await cal.book(request(start=start))
    await cal.book(request(start=local(2026, 11, 25, 15), phone="+15035550122"))
    before = fake.requests_to("GET", "/v2/bookings")
    mine = await cal.bookings_for_phone("(503) 555-0111")
    assert [b.start for b in mine] == sorted(starts)
    assert fake.requests_to("GET", "/v2/bookings") - before == 3  # 5 bookings, 2 a page
    named = await cal.bookings_for_attendee(CALLER, name="Pat")
    assert len(named) == 4
    between = await cal.bookings_between(local(2026, 11, 25), local(2026, 11, 27))
    assert len(between) == 3


async def test_a_list_that_says_there_is_another_page_forever_still_ends(cal, fake):
    """An example-serving server answers every page with the first one and `hasNextPage: true`: the
    counts it gives are believed; without counts the page cap ends it."""
    cal.page_size = 2
    for hour in (9, 11, 14):
        await cal.book(request(start=local(2026, 11, 26, hour)))
    fake.repeat_first_page = True
    before = fake.requests_to("GET", "/v2/bookings")
    async with asyncio.timeout(30):
        found = await cal.bookings_for_phone(CALLER)
    assert fake.requests_to("GET", "/v2/bookings") - before == 2  # remainingItems reached 0
    assert len(found) == 2  # the server never sent the third: a broken list, not a loop

    fake.page_counts = False
    before = fake.requests_to("GET", "/v2/bookings")
    async with asyncio.timeout(60):
        found = await cal.bookings_for_phone(CALLER)
    assert fake.requests_to("GET", "/v2/bookings") - before == MAX_PAGES
    assert len(found) == 2


async def test_a_list_honours_its_counts(cal, fake):
    cal.page_size = 2
    for hour in (9, 11, 14, 16):
        await cal.book(request(start=local(2026, 11, 26, hour)))
    before = fake.requests_to("GET", "/v2/bookings")
    assert len(await cal.bookings_for_phone(CALLER)) == 4
    assert fake.requests_to("GET", "/v2/bookings") - before == 2  # no third request for an empty page


@pytest.mark.parametrize("answer", ["answer_cancelled", "answer_rejected", "answer_moved"])
async def test_a_create_answered_with_another_booking_is_not_a_booking(cal, fake, db, answer):
    """Cal.com's answer is checked against what was asked: a cancelled or rejected booking, or one at
    another time, was once spoken to the caller as a confirmation."""
    fake.inject("POST", "/v2/bookings", answer)
    with pytest.raises(BookingNotConfirmed, match=r"cancelled|rejected|instead of"):
        await cal.book(request())
    (made,) = fake.bookings.values()
    # Whatever Cal.com made is not left on the owner's calendar at a time nobody agreed to.
    assert made["status"] in ("cancelled", "rejected")
    if answer == "answer_moved":
        assert made["start"] == "2026-11-25T18:00:00.000Z" and "caller was not told" in made["cancellationReason"]
    async with db.session() as session:
        mirrored = [row.status for row in (await session.execute(select(BookingRecord))).scalars()]
    assert mirrored in ([], ["cancelled"])  # nothing active: the withdrawn one is mirrored as cancelled
    assert await cal.book(request(start=local(2026, 11, 25, 11)))  # the next one goes through


async def test_the_whole_history_includes_cancelled_bookings(cal, fake):
    kept = await cal.book(request(start=local(2026, 11, 26, 9)))
    dropped = await cal.book(request(start=local(2026, 11, 26, 11)))
    await cal.cancel(dropped.uid, "changed plans")
    assert [b.uid for b in await cal.bookings_for_phone(CALLER)] == [kept.uid]
    history = {b.uid: b.status for b in await cal.bookings_for_phone(CALLER, include_past=True)}
    assert history == {kept.uid: "accepted", dropped.uid: "cancelled"}


async def test_what_someone_typed_on_the_booking_page_is_stored_safely(fake, business, http, any_db, clock, vtime):
    """PostgreSQL text cannot hold NUL: a name typed with one on Cal.com's page reached the mirror as is."""
    cal = make_calendar(fake, business, http, any_db, clock, vtime)
    response = await http.post(
        fake.url + "/v2/bookings",
        headers={"Authorization": f"Bearer {KEY}", "cal-api-version": "2024-08-13"},
        json={
            "start": "2026-11-25T17:00:00.000Z",
            "eventTypeId": 105,
            "attendee": {
                "name": "Pat\u0000 " + "Jones" * 100,
                "timeZone": "America/Los_Angeles",
                "phoneNumber": CALLER,
            },
            "metadata": {"silentpartnerSource": "x" * 40, "note": "a\u0000b"},
        },
    )
    assert response.status_code == 201, response.text
    uid = response.json()["data"]["uid"]
    cancelled = await cal.cancel(uid, "owner cancelled")
    assert cancelled.name is not None and cancelled.name.startswith("Pat Jones") and len(cancelled.name) == 200
    async with any_db.session() as session:
        (row,) = (await session.execute(select(BookingRecord))).scalars()
    assert (row.attendee_name, row.source, row.metadata_json["note"]) == (cancelled.name, "calcom", "ab")


async def test_bookings_updated_since_for_reconcile(cal, clock):
    a = await cal.book(request())
    await cal.book(request(start=local(2026, 11, 26, 9)))
    mark = clock.now()
    clock.advance(minutes=5)
    await cal.cancel(a.uid, "owner cancelled")
    changed = await cal.list_bookings_updated_since(mark + timedelta(seconds=1))
    assert [b.uid for b in changed] == [a.uid] and changed[0].status == "cancelled"


async def test_list_services_reads_event_types(cal):
    services = {s.slug: s for s in await cal.list_services()}
    assert services["emergency"].requires_email and not services["service-call"].requires_email
    assert services["install"].deposit == 5000


# -- the fake really validates ----------------------------------------------------------------------


async def test_fake_rejects_requests_that_break_the_spec(fake, http):
    response = await http.post(
        fake.url + "/v2/bookings",
        headers={"Authorization": f"Bearer {KEY}", "cal-api-version": "2024-09-04"},
        json={"start": "2026-11-25T17:00:00Z", "eventTypeId": 101, "attendee": {"name": "x"}},
    )
    assert response.status_code == 400
    assert len(fake.spec_violations) == 1 and "cal-api-version" in fake.spec_violations[0]
    fake.spec_violations.clear()


async def test_fake_sends_signed_webhooks(fake, cal):
    import hashlib
    import hmac

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    received: list[tuple[bytes, str]] = []

    async def hook(req: Request) -> Response:
        received.append((await req.body(), req.headers["X-Cal-Signature-256"]))
        return Response(status_code=200)

    booking = await cal.book(request())
    with LiveServer(Starlette(routes=[Route("/webhooks/calcom", hook, methods=["POST"])])) as receiver:
        await fake.deliver_webhook(receiver.url + "/webhooks/calcom", "s3cret", "BOOKING_CREATED", booking.uid)
        await fake.deliver_webhook(receiver.url + "/webhooks/calcom", "s3cret", "MEETING_ENDED", booking.uid)
    import json

    for raw, signature in received:
        assert signature == hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    created, ended = (json.loads(raw) for raw, _ in received)
    assert created["payload"]["uid"] == booking.uid and created["payload"]["metadata"]["silentpartnerCallId"] == "CA123"
    assert ended["triggerEvent"] == "MEETING_ENDED" and ended["uid"] == booking.uid and "payload" not in ended


# -- doctor and setup -------------------------------------------------------------------------------


async def test_doctor_checks_event_types_and_email(fake, demo, db, clock, sqlite_url, http):
    business = calcom_business(demo)
    broken = business.model_copy(
        update={
            "slug": "broken-plumbing",
            "numbers": ("+15035550177",),
            "services": (
                *business.services[:1],
                Service(slug="gone", name="gone", duration_minutes=30, calcom_event_type_id=999),
            ),
        }
    )
    settings = Settings(database_url=sqlite_url, calcom_api_key=KEY, calcom_api_url=fake.url, _env_file=None)
    runtime = Runtime(settings=settings, businesses=Businesses([business, broken]), db=db, http=http, clock=clock)
    findings = await check_calcom(runtime)
    text = "\n".join(f"{f.level} {f.subject}: {f.message}" for f in findings)
    assert "ok Cal.com mikes-plumbing: Cal.com answers" in text
    assert any(f.level == "warn" and "emergency" in f.subject and "optional" in f.message for f in findings), text
    assert any(f.level == "fail" and "gone" in f.subject and "999" in f.message for f in findings), text
    assert not any(f.level == "fail" and "mikes-plumbing" in f.subject for f in findings), text

    bad = Settings(database_url=sqlite_url, calcom_api_key="cal_wrong", calcom_api_url=fake.url, _env_file=None)
    runtime = Runtime(settings=bad, businesses=Businesses([business]), db=db, http=http, clock=clock)
    findings = await check_calcom(runtime)
    assert [f.level for f in findings] == ["fail"] and "CALCOM_API_KEY" in findings[0].message


BUSINESS_TOML = """
[[business]]
slug = "acme-plumbing"
name = "Acme Plumbing"
timezone = "America/Los_Angeles"
numbers = ["+15035550100"]
owner_mobile = "+15035550199"
calendar = "calcom"

[business.hours]
mon = ["08:00-17:00"]

[[business.services]]
slug = "service-call"
name = "service call"
duration_minutes = 60
calcom_event_type_id = 101
"""


def test_setup_calcom_webhook_is_idempotent(fake, tmp_path: Path):
    (tmp_path / "businesses.toml").write_text(BUSINESS_TOML)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CALCOM_", "PUBLIC_URL", "BUSINESS"))},
        "CALCOM_API_URL": fake.url,
        "CALCOM_API_KEY": KEY,
        "CALCOM_WEBHOOK_SECRET": "whsec-1",
        "PUBLIC_URL": "https://sp.example.com",
        "BUSINESSES_FILE": str(tmp_path / "businesses.toml"),
    }
    cmd = [sys.executable, "-m", "silentpartner", "setup", "calcom-webhook", "--business", "acme-plumbing"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("created Cal.com webhook")
    env["CALCOM_WEBHOOK_SECRET"] = "whsec-2"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("updated Cal.com webhook")
    hooks = list(fake.webhooks.values())
    assert len(hooks) == 1
    assert hooks[0]["subscriberUrl"] == "https://sp.example.com/webhooks/calcom" and hooks[0]["secret"] == "whsec-2"
    assert set(hooks[0]["triggers"]) == {
        "BOOKING_CREATED",
        "BOOKING_REQUESTED",
        "BOOKING_RESCHEDULED",
        "BOOKING_CANCELLED",
        "BOOKING_REJECTED",
        "BOOKING_PAYMENT_INITIATED",
        "BOOKING_PAID",
        "MEETING_ENDED",
    }
    env.pop("CALCOM_WEBHOOK_SECRET")
    missing = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert missing.returncode == 2 and "CALCOM_WEBHOOK_SECRET" in missing.stderr


@pytest.mark.parametrize(
    "body",
    [
        {"statusCode": 422, "error": "Unprocessable Entity", "details": {"subscriberUrl": "must be reachable"}},
        {"errors": [{"field": "subscriberUrl", "message": "must be reachable"}]},
        {"status": "error", "error": {"code": "", "message": "", "details": ["subscriberUrl must be reachable"]}},
        "<html><body><h1>422</h1> subscriberUrl must be reachable</body></html>",
    ],
)
def test_setup_calcom_webhook_shows_the_servers_explanation_whatever_its_shape(fake, tmp_path: Path, body) -> None:
    (tmp_path / "businesses.toml").write_text(BUSINESS_TOML)
    fake.inject("POST", "/v2/webhooks", "error", status=422, body=body)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CALCOM_", "PUBLIC_URL", "BUSINESS"))},
        "CALCOM_API_URL": fake.url,
        "CALCOM_API_KEY": KEY,
        "CALCOM_WEBHOOK_SECRET": "whsec-1",
        "PUBLIC_URL": "https://sp.example.com",
        "BUSINESSES_FILE": str(tmp_path / "businesses.toml"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "silentpartner", "setup", "calcom-webhook", "--business", "acme-plumbing"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: could not register the webhook: Cal.com answered 422: ")
    assert "must be reachable" in line


def test_error_messages_keep_every_envelope_readable():
    assert error_message({"error": {"code": "X", "message": "bad start"}}) == "bad start | X"
    assert error_message({"message": ["start must be a date", "eventTypeId required"]}) == (
        "start must be a date; eventTypeId required"
    )
    assert error_message({"message": {"start": "invalid"}}) == '{"start":"invalid"}'
    assert error_message({"weird": True}) == '{"weird":true}'
    assert error_message("  Bad\n gateway ") == "Bad gateway"
    assert error_message("") == "" and error_message({}) == "" and error_message(None) == ""
    assert len(error_message({"detail": "x" * 5000})) <= 300


async def test_from_settings_reads_the_named_key_and_shares_its_limiter(demo, http, db, clock, sqlite_url, monkeypatch):
    from silentpartner.settings import ConfigError

    settings = Settings(
        database_url=sqlite_url, calcom_api_key=KEY, calcom_api_url="http://127.0.0.1:9/v2", _env_file=None
    )
    one = CalcomCalendar.from_settings(calcom_business(demo), settings, http, db, clock)
    two = CalcomCalendar.from_settings(calcom_business(demo, slug="other"), settings, http, db, clock)
    assert one.client.limiter is two.client.limiter and one.client.base_url == "http://127.0.0.1:9"
    other_key = calcom_business(demo, calcom_api_key_env="ACME_CALCOM_KEY")
    with pytest.raises(ConfigError, match="ACME_CALCOM_KEY"):
        CalcomCalendar.from_settings(other_key, settings, http, db, clock)
    monkeypatch.setenv("ACME_CALCOM_KEY", "cal_acme")
    three = CalcomCalendar.from_settings(other_key, settings, http, db, clock)
    assert three.client.limiter is not one.client.limiter


def test_doctor_cli_against_the_local_server(fake, tmp_path: Path):
    (tmp_path / "businesses.toml").write_text(
        BUSINESS_TOML.replace("calcom_event_type_id = 101", "calcom_event_type_id = 102")
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CALCOM_", "PUBLIC_URL", "BUSINESS", "DATABASE"))},
        "CALCOM_API_URL": fake.url,
        "CALCOM_API_KEY": KEY,
        "CALCOM_WEBHOOK_SECRET": "whsec-1",
        "BUSINESSES_FILE": str(tmp_path / "businesses.toml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'doctor.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "silentpartner", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert "[ok  ] Cal.com acme-plumbing: Cal.com answers" in done.stdout, done.stdout + done.stderr
    assert "[warn] Cal.com acme-plumbing service service-call: event type 102 requires an email" in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


async def test_fake_flags_paths_outside_the_spec_and_unimplemented_ones(fake, http):
    auth = {"Authorization": f"Bearer {KEY}"}
    assert (await http.get(fake.url + "/v2/no-such-thing", headers=auth)).status_code == 400
    assert (
        await http.get(fake.url + "/v2/schedules", headers={**auth, "cal-api-version": "2024-06-11"})
    ).status_code == 501
    assert len(fake.spec_violations) == 2
    assert "not implemented" in fake.spec_violations[1]
    fake.spec_violations.clear()
