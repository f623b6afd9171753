"""The embedded calendar on a real database (SQLite, and PostgreSQL where the `db_url` fixture has it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from silentpartner.business import Business
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import (
    BookingRequest,
    CalendarPort,
    InvalidRequest,
    NotFound,
    OutsideBookingWindow,
    Slot,
    SlotUnavailable,
)
from silentpartner.clock import FixedClock
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, CalendarHold


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


@pytest.fixture
def cal(demo: Business, db: Database, clock: FixedClock) -> LocalCalendar:
    return LocalCalendar(demo, db, clock)


def at(demo: Business, day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 wall-clock time in the business timezone."""
    return datetime(2026, 11, day, hour, minute, tzinfo=demo.tz)


def request(start: datetime, name: str = "Ann Lee", phone: str = "+15035550101", **kw) -> BookingRequest:
    return BookingRequest(service=kw.pop("service", "service-call"), start=start, name=name, phone=phone, **kw)


async def test_it_is_a_calendar_port(cal: LocalCalendar) -> None:
    assert isinstance(cal, CalendarPort)
    services = await cal.list_services()
    assert [s.slug for s in services] == ["service-call", "emergency", "estimate"]
    assert not any(s.requires_email for s in services)


async def test_book_then_the_time_is_gone_and_the_booking_reads_back(cal: LocalCalendar, demo: Business) -> None:
    day = at(demo, 25, 0)
    before = await cal.find_slots("service-call", day, day + timedelta(days=1), team_member="Mike")
    booked = await cal.book(
        request(at(demo, 25, 9), phone="(503) 555-0101", team_member="Mike", address="1 Main St", notes="leak")
    )
    assert booked.uid.startswith("loc_") and booked.status == "accepted" and booked.is_active
    assert (
        booked.phone == "+15035550101"
        and booked.team_member == "Mike"
        and booked.end - booked.start == timedelta(hours=1)
    )
    after = await cal.find_slots("service-call", day, day + timedelta(days=1), team_member="Mike")
    gone = {s.start for s in before} - {s.start for s in after}
    # 9:00 itself, and the neighbours its hour plus the 15-minute buffer reaches.
    assert {t.astimezone(demo.tz).strftime("%H:%M") for t in gone} == {"08:00", "08:30", "09:00", "09:30", "10:00"}
    assert await cal.get_booking(booked.uid) == booked
    assert [b.uid for b in await cal.bookings_between(day, day + timedelta(days=1))] == [booked.uid]
    with pytest.raises(NotFound):
        await cal.get_booking("loc_nope")


async def test_anyone_free_view_and_round_robin(cal: LocalCalendar, demo: Business) -> None:
    day = at(demo, 25, 0)
    slots = await cal.find_slots("service-call", day, day + timedelta(days=1))
    assert all(s.team_member is None for s in slots)
    assert len({s.start for s in slots}) == len(slots)
    # Nobody booked that day: name order, Dana first. Then whoever has fewer that day.
    first = await cal.book(request(at(demo, 25, 8)))
    second = await cal.book(request(at(demo, 25, 13), phone="+15035550102"))
    third = await cal.book(request(at(demo, 25, 11), phone="+15035550103"))
    assert [first.team_member, second.team_member, third.team_member] == ["Dana", "Mike", "Dana"]
    # Both are busy at 8:00 only if a second booking takes Mike.
    fourth = await cal.book(request(at(demo, 25, 8), phone="+15035550104"))
    assert fourth.team_member == "Mike"
    with pytest.raises(SlotUnavailable) as taken:
        await cal.book(request(at(demo, 25, 8), phone="+15035550105"))
    assert 1 <= len(taken.value.alternatives) <= 3
    assert all(abs(a.start - at(demo, 25, 8)) < timedelta(days=1) for a in taken.value.alternatives)


async def test_danas_hours_and_services(cal: LocalCalendar, demo: Business) -> None:
    friday = at(demo, 27, 0)
    assert await cal.find_slots("service-call", friday, friday + timedelta(days=1), team_member="Dana") == []
    with pytest.raises(SlotUnavailable):
        await cal.book(request(at(demo, 27, 9), team_member="Dana"))
    with pytest.raises(SlotUnavailable):  # would end 16:30, after her 16:00
        await cal.book(request(at(demo, 25, 15, 30), team_member="Dana"))
    assert (await cal.book(request(at(demo, 25, 15), team_member="Dana"))).team_member == "Dana"
    with pytest.raises(InvalidRequest):
        await cal.find_slots("emergency", friday, friday + timedelta(days=1), team_member="Dana")
    with pytest.raises(InvalidRequest):
        await cal.find_slots("service-call", friday, friday + timedelta(days=1), team_member="Zed")
    # Without asking for anyone, Friday 16:00 goes to Mike (business hours).
    assert (await cal.book(request(at(demo, 27, 16)))).team_member == "Mike"


async def test_travel_buffer_between_different_addresses(demo: Business, db: Database, clock: FixedClock) -> None:
    business = demo.model_copy(update={"travel_buffer_minutes": 30})
    cal = LocalCalendar(business, db, clock)
    await cal.book(request(at(demo, 25, 10), service="estimate", team_member="Dana", address="1 Main St"))
    # Same address: straight after is fine. Elsewhere: Dana needs 30 minutes to get there.
    same = await cal.book(
        request(at(demo, 25, 10, 30), "Bo", "+15035550102", service="estimate", team_member="Dana", address="1 main st")
    )
    assert same.team_member == "Dana"
    with pytest.raises(SlotUnavailable):
        await cal.book(
            request(at(demo, 25, 11), "Cy", "+15035550103", service="estimate", team_member="Dana", address="9 Elm")
        )
    elsewhere = await cal.book(request(at(demo, 25, 11), "Cy", "+15035550103", service="estimate", address="9 Elm"))
    assert elsewhere.team_member == "Mike"


async def test_holds_block_others_expire_and_are_used_by_their_booking(
    cal: LocalCalendar, demo: Business, clock: FixedClock
) -> None:
    day = at(demo, 25, 0)
    slot = next(
        s
        for s in await cal.find_slots("emergency", day, day + timedelta(days=1))
        if s.start == at(demo, 25, 9).astimezone(UTC)
    )
    hold = await cal.hold(slot, holder="CA1")
    assert hold.slot.team_member == "Mike" and hold.expires_at == clock.now() + timedelta(minutes=demo.hold_minutes)
    assert slot.start not in {s.start for s in await cal.find_slots("emergency", day, day + timedelta(days=1))}
    with pytest.raises(SlotUnavailable):
        await cal.hold(slot, holder="CA2")
    with pytest.raises(SlotUnavailable):
        await cal.book(request(slot.start, service="emergency", phone="+15035550102"))
    # The holder books through its hold; the hold is used up.
    booking = await cal.book(request(slot.start, service="emergency", hold_id=hold.id))
    assert booking.team_member == "Mike"
    async with cal.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(CalendarHold)) == 0

    # A hold nobody confirms lapses after hold_minutes.
    later = next(s for s in await cal.find_slots("emergency", day, day + timedelta(days=1)) if s.start > slot.start)
    await cal.hold(later, holder="CA3")
    with pytest.raises(SlotUnavailable):
        await cal.hold(later, holder="CA4")
    clock.advance(minutes=demo.hold_minutes, seconds=1)
    second = await cal.hold(later, holder="CA4")
    await cal.release(second.id)
    assert (await cal.book(request(later.start, service="emergency", phone="+15035550104"))).status == "accepted"


async def test_cancel_frees_the_time(cal: LocalCalendar, demo: Business) -> None:
    booking = await cal.book(request(at(demo, 25, 9), service="emergency"))
    cancelled = await cal.cancel(booking.uid, "fixed it myself")
    assert cancelled.status == "cancelled" and not cancelled.is_active
    assert cancelled.extra["cancellation_reason"] == "fixed it myself"
    assert (await cal.book(request(at(demo, 25, 9), service="emergency", phone="+15035550102"))).status == "accepted"
    assert await cal.bookings_for_phone("+15035550101") == []
    with pytest.raises(NotFound):
        await cal.cancel("loc_missing", "x")


async def test_reschedule_keeps_the_uid_and_ignores_the_booking_being_moved(cal: LocalCalendar, demo: Business) -> None:
    booking = await cal.book(request(at(demo, 25, 9), service="emergency"))
    # Half an hour later overlaps the booking's own old time: allowed, it is the one moving.
    day = at(demo, 25, 0)
    free = await cal.find_slots("emergency", day, day + timedelta(days=1), reschedule_uid=booking.uid)
    assert at(demo, 25, 9, 30).astimezone(UTC) in {s.start for s in free}
    moved = await cal.reschedule(booking.uid, at(demo, 25, 9, 30), reason="running late")
    assert moved.uid == booking.uid and moved.rescheduled_from is None
    assert moved.start == at(demo, 25, 9, 30) and moved.end == at(demo, 25, 10, 30)
    other = await cal.book(request(at(demo, 25, 14), service="emergency", phone="+15035550102"))
    with pytest.raises(SlotUnavailable):
        await cal.reschedule(booking.uid, at(demo, 25, 14))
    with pytest.raises(OutsideBookingWindow):
        await cal.reschedule(booking.uid, at(demo, 25, 9) + timedelta(days=90))
    await cal.cancel(other.uid, "no longer needed")
    with pytest.raises(InvalidRequest):
        await cal.reschedule(other.uid, at(demo, 25, 16))


async def test_bookings_for_phone_only_that_number_upcoming_first(
    cal: LocalCalendar, demo: Business, clock: FixedClock
) -> None:
    mine_late = await cal.book(request(at(demo, 27, 9), service="emergency"))
    mine_soon = await cal.book(request(at(demo, 24, 15), service="emergency"))
    await cal.book(request(at(demo, 26, 9), "Bo", "+15035550102", service="emergency"))
    assert [b.uid for b in await cal.bookings_for_phone("503-555-0101")] == [mine_soon.uid, mine_late.uid]
    assert await cal.bookings_for_phone("+15035550199") == []
    assert await cal.bookings_for_phone("not a number") == []
    clock.set(at(demo, 25, 12))
    assert [b.uid for b in await cal.bookings_for_phone("+15035550101")] == [mine_late.uid]
    assert [b.uid for b in await cal.bookings_for_phone("+15035550101", include_past=True)] == [
        mine_late.uid,
        mine_soon.uid,
    ]


async def test_errors_are_typed(cal: LocalCalendar, demo: Business) -> None:
    with pytest.raises(OutsideBookingWindow):
        await cal.book(request(at(demo, 24, 12) + timedelta(days=demo.booking_window_days + 1)))
    with pytest.raises(InvalidRequest):
        await cal.book(request(at(demo, 25, 9), service="roofing"))
    with pytest.raises(InvalidRequest):
        await cal.book(request(at(demo, 25, 9), phone="12"))
    with pytest.raises(InvalidRequest):
        await cal.book(request(at(demo, 25, 9), name="  "))
    with pytest.raises(InvalidRequest):
        await cal.book(request(datetime(2026, 11, 25, 9)))
    with pytest.raises(InvalidRequest):
        await cal.hold(Slot(id="garbage", service="service-call", start=at(demo, 25, 9), end=at(demo, 25, 10)))
    with pytest.raises(SlotUnavailable) as soon:  # 11:00 today is within the two hours' notice
        await cal.book(request(at(demo, 24, 11)))
    assert "notice" in soon.value.reason
    assert soon.value.alternatives and soon.value.alternatives[0].start >= at(demo, 24, 12)
    with pytest.raises(SlotUnavailable):  # 9:10 is not on the half-hour grid
        await cal.book(request(at(demo, 25, 9, 10)))


async def test_twenty_callers_racing_for_one_slot_exactly_one_wins(
    db_url: str, db: Database, demo: Business, clock: FixedClock
) -> None:
    """Each caller has its own Database (own engine, connections, sessions): the race is real."""
    start = at(demo, 25, 9)
    databases = [Database(db_url) for _ in range(20)]

    async def caller(i: int, database: Database) -> str:
        cal = LocalCalendar(demo, database, clock)
        try:
            booking = await cal.book(request(start, f"Caller {i}", f"+1503555{1000 + i:04d}", service="emergency"))
        except SlotUnavailable:
            return "taken"
        return booking.uid

    try:
        results = await asyncio.gather(*(caller(i, d) for i, d in enumerate(databases)))
    finally:
        for database in databases:
            await database.close()
    winners = [r for r in results if r != "taken"]
    assert len(winners) == 1 and results.count("taken") == 19
    async with db.session() as session:
        rows = (await session.scalars(select(BookingRecord).where(BookingRecord.start_at == start))).all()
    assert [r.uid for r in rows] == winners


async def test_twenty_callers_racing_to_hold_one_slot_exactly_one_holds(
    db_url: str, db: Database, demo: Business, clock: FixedClock
) -> None:
    start = at(demo, 25, 9)
    day = at(demo, 25, 0)
    cal = LocalCalendar(demo, db, clock)
    slot = next(s for s in await cal.find_slots("emergency", day, day + timedelta(days=1)) if s.start == start)
    databases = [Database(db_url) for _ in range(20)]

    async def caller(i: int, database: Database) -> str:
        try:
            return (await LocalCalendar(demo, database, clock).hold(slot, holder=f"CA{i}")).id
        except SlotUnavailable:
            return "taken"

    try:
        results = await asyncio.gather(*(caller(i, d) for i, d in enumerate(databases)))
    finally:
        for database in databases:
            await database.close()
    assert len([r for r in results if r != "taken"]) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(CalendarHold)) == 1
