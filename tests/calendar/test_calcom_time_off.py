"""Time off on the Cal.com backend, end to end: `CalcomCalendar.block`/`reopen` write date overrides on the key
owner's schedules of the local Cal.com v2 server (`tests/support/fake_calcom.py`, every request validated against
the OpenAPI spec), and its `GET /v2/slots` then offers nothing in the blocked time. No database is involved."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from silentpartner.business import Business
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.calcom import CalcomCalendar
from silentpartner.calendar.port import BookingRequest, CalendarPort, InvalidRequest, SlotUnavailable
from silentpartner.clock import FixedClock
from tests.calendar.test_calcom import (
    CALLER,
    DANA,
    KEY,
    MIKE,
    PDX,
    VirtualTime,
    calcom_business,
    event_types,
    local,
    make_calendar,
)
from tests.support.fake_calcom import SPEC_PATH, FakeCalcom, Host

# The suite's clock says Tuesday 24 November 2026; Friday is the 27th.
FRIDAY = (2026, 11, 27)


def friday(hour: int = 0, minute: int = 0) -> datetime:
    return local(*FRIDAY, hour, minute)


SATURDAY_MIDNIGHT = local(2026, 11, 28)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeCalcom]:
    """The API key is Mike's, as in a one-person business where the owner made the key."""
    assert SPEC_PATH.is_file(), f"missing Cal.com validation spec {SPEC_PATH}: these tests cannot run without it"
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,))
    fake.me = MIKE
    for et in event_types():
        fake.add_event_type(et)
    with fake.running():
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def business(demo: Business) -> Business:
    return calcom_business(demo)


@pytest.fixture
def cal(fake: FakeCalcom, business: Business, http: httpx.AsyncClient, clock: FixedClock) -> CalcomCalendar:
    return make_calendar(fake, business, http, None, clock, VirtualTime())


async def hours(cal: CalendarPort, service: str = "service-call") -> list[str]:
    """Friday's offered starts, as local HH:MM."""
    slots = await cal.find_slots(service, friday(), SATURDAY_MIDNIGHT)
    return [s.start.astimezone(PDX).strftime("%H:%M") for s in slots]


def override_rows(fake: FakeCalcom, host: Host = MIKE) -> list[dict[str, str]]:
    schedule = fake.default_schedule(host)
    assert schedule is not None
    return schedule.overrides


def patches(fake: FakeCalcom) -> int:
    return fake.requests_to("PATCH", "/v2/schedules/")


WEEKDAY = [f"{h:02d}:00" for h in range(8, 17)]


# -- the round trip ---------------------------------------------------------------------------------


async def test_calcom_calendar_is_a_calendar_port(cal):
    assert isinstance(cal, CalendarPort)


async def test_block_friday_afternoon_then_reopen_it(cal, fake):
    assert await hours(cal) == WEEKDAY

    await cal.block(friday(12), friday(17), team_member=None, reason="off Friday afternoon")

    assert await hours(cal) == ["08:00", "09:00", "10:00", "11:00"]
    assert override_rows(fake) == [{"date": "2026-11-27", "startTime": "08:00", "endTime": "12:00"}]
    # Not just hidden from the slot list: Cal.com refuses a booking there.
    with pytest.raises(SlotUnavailable):
        await cal.book(BookingRequest(service="service-call", start=friday(14), name="Pat Caller", phone=CALLER))

    assert await cal.reopen(friday(12), friday(17), team_member=None) == 1

    assert await hours(cal) == WEEKDAY
    assert override_rows(fake) == []
    assert fake.statuses.count(403) == 0


async def test_a_whole_day_off_is_the_zero_length_override(cal, fake):
    await cal.block(friday(), SATURDAY_MIDNIGHT, team_member="Mike", reason="off Friday")
    assert override_rows(fake) == [{"date": "2026-11-27", "startTime": "00:00", "endTime": "00:00"}]
    assert await hours(cal) == []
    assert await hours(cal, "install") == []
    thursday = await cal.find_slots("service-call", local(2026, 11, 26), friday())
    assert len(thursday) == 9  # only Friday is off

    assert await cal.reopen(friday(8), friday(12), team_member="mike") == 1
    assert override_rows(fake) == [{"date": "2026-11-27", "startTime": "08:00", "endTime": "12:00"}]
    assert await hours(cal) == ["08:00", "09:00", "10:00", "11:00"]


async def test_other_dates_overrides_are_sent_back_untouched(cal, fake):
    christmas = [
        {"date": "2026-12-24", "startTime": "08:00", "endTime": "12:00"},
        {"date": "2026-12-25", "startTime": "00:00", "endTime": "00:00"},
    ]
    override_rows(fake).extend(christmas)

    await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert override_rows(fake) == [{"date": "2026-11-27", "startTime": "08:00", "endTime": "12:00"}, *christmas]

    await cal.reopen(friday(), SATURDAY_MIDNIGHT, team_member=None)
    assert override_rows(fake) == christmas


async def test_reopen_with_nothing_off_changes_nothing(cal, fake):
    assert await cal.reopen(friday(12), friday(17), team_member=None) == 0
    assert patches(fake) == 0


async def test_blocking_twice_writes_once(cal, fake):
    await cal.block(friday(12), friday(17), team_member=None, reason="off")
    sent = patches(fake)
    await cal.block(friday(13), friday(16), team_member=None, reason="off again")
    assert patches(fake) == sent
    assert await hours(cal) == ["08:00", "09:00", "10:00", "11:00"]


async def test_a_closed_day_is_left_alone_on_a_schedule_closed_that_day(cal, fake):
    """Saturday: the default schedule has no hours to take off; the every-day emergency schedule does."""
    saturday = (local(2026, 11, 28, 9), local(2026, 11, 28, 17))
    await cal.block(*saturday, team_member=None, reason="Saturday")
    emergency_id = fake.event_types[102].schedule_id
    assert [(m, p) for m, p, _ in fake.requests if m == "PATCH"] == [("PATCH", f"/v2/schedules/{emergency_id}")]
    assert override_rows(fake) == []


# -- which schedules --------------------------------------------------------------------------------


async def test_a_service_on_its_own_schedule_is_closed_too(cal, fake):
    """The emergency event type has its own every-day schedule: the default schedule's overrides would not
    reach it, so its schedule gets the same override."""
    every_day = [f"{h:02d}:00" for h in range(7, 21)]
    assert await hours(cal, "emergency") == every_day
    emergency = fake.schedules[fake.event_types[102].schedule_id]

    await cal.block(friday(12), friday(17), team_member=None, reason="off")

    assert await hours(cal, "emergency") == [
        "07:00",
        "08:00",
        "09:00",
        "10:00",
        "11:00",
        "17:00",
        "18:00",
        "19:00",
        "20:00",
    ]
    assert emergency.overrides == [
        {"date": "2026-11-27", "startTime": "07:00", "endTime": "12:00"},
        {"date": "2026-11-27", "startTime": "17:00", "endTime": "21:00"},
    ]
    assert await cal.reopen(friday(12), friday(17), team_member=None) == 1  # one date, on two schedules
    assert await hours(cal, "emergency") == every_day and emergency.overrides == []


async def test_team_event_types_keep_the_other_hosts_hours(cal, fake):
    """Only Mike's schedule changes: Dana still takes round-robin estimates that afternoon, and a job that
    needs both of them (collective) is not offered."""
    await cal.block(friday(12), friday(17), team_member=None, reason="off")
    estimates = await hours(cal, "estimate")
    assert "14:00" in estimates and "16:30" in estimates
    booking = await cal.book(BookingRequest(service="estimate", start=friday(14), name="Pat Caller", phone=CALLER))
    assert booking.team_member == "Dana"
    assert await hours(cal, "big-job") == ["08:00", "09:00", "10:00", "11:00"]
    assert fake.default_schedule(DANA).overrides == []  # type: ignore[union-attr]


async def test_another_team_members_time_off_is_refused_in_one_line(cal, fake):
    with pytest.raises(InvalidRequest) as refused:
        await cal.block(friday(12), friday(17), team_member="Dana", reason="Dana's dentist")
    message = str(refused.value)
    assert "Dana" in message and "set in Cal.com" in message and "\n" not in message
    with pytest.raises(InvalidRequest):
        await cal.reopen(friday(12), friday(17), team_member="Dana")
    assert fake.requests == []  # refused before asking Cal.com anything


async def test_a_key_that_is_not_the_owners_changes_nothing(fake, business, http, clock):
    """The business says Mike is Cal.com user 11; a key made by another user must not close that user's day."""
    fake.me = Host(1, "Office admin", "office@example.com", "office")
    cal = make_calendar(fake, business, http, None, clock, VirtualTime())
    with pytest.raises(InvalidRequest, match="belongs to user 1, not Mike"):
        await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert patches(fake) == 0


async def test_no_default_schedule_is_said_plainly(cal, fake):
    fake.drop_default_schedule(MIKE)
    with pytest.raises(InvalidRequest, match="no default schedule"):
        await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert patches(fake) == 0


async def test_a_pinned_schedule_the_key_cannot_change_stops_the_whole_change(cal, fake):
    """Every schedule is read before any is written: nothing is half done."""
    dana = fake.default_schedule(DANA)
    assert dana is not None
    fake.event_types[102].schedule_id = dana.id  # Mike's emergency event type on Dana's hours
    with pytest.raises(InvalidRequest, match=f"service emergency uses Cal.com schedule {dana.id}"):
        await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert fake.statuses.count(403) == 1
    assert patches(fake) == 0 and override_rows(fake) == []


async def test_an_unreadable_schedule_is_never_written_back(cal, fake):
    garbled = {
        "id": 501,
        "ownerId": 11,
        "name": "x",
        "timeZone": "Atlantis/Capital",
        "availability": [],
        "overrides": [],
    }
    fake.inject("GET", "/v2/schedules/default", "error", status=200, body={"status": "success", "data": garbled})
    with pytest.raises(InvalidRequest, match="cannot read"):
        await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert patches(fake) == 0


async def test_a_failed_write_is_retried(cal, fake):
    """The PATCH carries the whole override list, so sending it again after a 500 is safe."""
    fake.inject("PATCH", "/v2/schedules/", "500")
    await cal.block(friday(12), friday(17), team_member=None, reason="off")
    assert fake.statuses.count(500) == 1
    assert patches(fake) == 3  # the default schedule twice, the emergency schedule once
    assert await hours(cal) == ["08:00", "09:00", "10:00", "11:00"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (friday(17), friday(12)),
        (friday(12), friday(12)),
        (friday(12).replace(tzinfo=None), friday(17)),
        (friday(12), friday(12) + timedelta(days=400)),
    ],
)
async def test_a_span_that_makes_no_sense_is_refused(cal, fake, start, end):
    with pytest.raises(InvalidRequest):
        await cal.block(start, end, team_member=None, reason="off")
    assert fake.requests == []


# -- through the slot cache -------------------------------------------------------------------------


async def test_the_slot_cache_forgets_what_was_offered_before_the_block(cal, clock):
    cache = SlotCache(clock, days=7, ttl=timedelta(minutes=5))
    cached = CachedCalendar(cal, cache)
    try:
        assert isinstance(cached, CalendarPort)
        await cache.warm(cal.business)
        assert await hours(cached) == WEEKDAY
        await cached.block(friday(12), friday(17), team_member=None, reason="off")
        await cache.drain()
        assert await hours(cached) == ["08:00", "09:00", "10:00", "11:00"]
        assert await cached.reopen(friday(12), friday(17), team_member=None) == 1
        await cache.drain()
        assert await hours(cached) == WEEKDAY
    finally:
        await cache.close()


# -- the local server holds Cal.com's line ------------------------------------------------------------


async def test_the_local_server_checks_override_times_as_cal_com_does(fake, http):
    """Cal.com's TIME_FORMAT_HH_MM allows 00:00-23:59 only, so midnight as an end is written 23:59."""
    schedule = fake.default_schedule(MIKE)
    assert schedule is not None
    url = f"{fake.url}/v2/schedules/{schedule.id}"
    headers = {"Authorization": f"Bearer {KEY}", "cal-api-version": "2024-06-11"}

    def body(end: str) -> dict:
        return {"overrides": [{"date": "2026-11-27", "startTime": "12:00", "endTime": end}]}

    refused = await http.patch(url, headers=headers, json=body("24:00"))
    assert refused.status_code == 400 and len(fake.spec_violations) == 1
    fake.spec_violations.clear()  # seen: the fixture checks that nothing else broke the spec
    assert schedule.overrides == []

    taken = await http.patch(url, headers=headers, json=body("23:59"))
    assert taken.status_code == 200 and taken.json()["data"]["overrides"] == body("23:59")["overrides"]
    cal_slots = await http.get(
        f"{fake.url}/v2/slots",
        headers={"cal-api-version": "2024-09-04"},
        params={
            "eventTypeId": "101",
            "start": "2026-11-27T08:00:00Z",
            "end": "2026-11-28T08:00:00Z",
            "timeZone": "America/Los_Angeles",
        },
    )
    # Noon to midnight replaces Friday's 08:00-17:00; the last hour-long slot starts at 23:00.
    starts = [s["start"][11:16] for s in cal_slots.json()["data"]["2026-11-27"]]
    assert starts == [f"{h}:00" for h in range(12, 24)]
