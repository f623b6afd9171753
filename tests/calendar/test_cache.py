"""The slot cache over a real backend (the embedded calendar on SQLite), and the calendar component."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from silentpartner.app import open_runtime
from silentpartner.business import Business, Businesses
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest, CalendarPort, CalendarUnavailable, Slot, SlotUnavailable
from silentpartner.calendar.registry import CalendarComponent, CalendarParts, open_calendar
from silentpartner.clock import FixedClock
from silentpartner.settings import Settings
from silentpartner.store.db import Database


class Recording:
    """Delegates to a real calendar and counts the slot searches that reach it; can be told to wait
    (to hold a fetch in flight) or to fail (a backend outage)."""

    def __init__(self, inner: LocalCalendar) -> None:
        self.inner = inner
        self.business = inner.business
        self.searches = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail = False

    async def find_slots(self, service, start, end, *, team_member=None, reschedule_uid=None) -> list[Slot]:
        self.searches += 1
        self.entered.set()
        if self.fail:
            raise CalendarUnavailable("backend down")
        if self.gate is not None:
            await self.gate.wait()
        return await self.inner.find_slots(service, start, end, team_member=team_member, reschedule_uid=reschedule_uid)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


@pytest.fixture
def backend(demo: Business, db: Database, clock: FixedClock) -> Recording:
    return Recording(LocalCalendar(demo, db, clock))


@pytest.fixture
async def cached(backend: Recording, clock: FixedClock) -> AsyncIterator[CachedCalendar]:
    cache = SlotCache(clock, days=7, ttl=timedelta(minutes=1))
    calendar = CachedCalendar(backend, cache)
    try:
        yield calendar
    finally:
        await cache.close()


def at(demo: Business, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=demo.tz)


def tomorrow(demo: Business) -> tuple[datetime, datetime]:
    return at(demo, 25, 0), at(demo, 26, 0)


async def test_warm_then_find_slots_is_served_from_memory(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    assert isinstance(cached, CalendarPort)
    assert await cached.cache.warm(demo) == len(demo.services)
    assert backend.searches == len(demo.services)
    for service in ("service-call", "emergency", "estimate"):
        served = await cached.find_slots(service, *tomorrow(demo))
        assert served == await backend.inner.find_slots(service, *tomorrow(demo))
        assert served
    assert backend.searches == len(demo.services)
    assert cached.cache.hits == 3 and cached.cache.misses == 0


async def test_warm_skips_fresh_entries(
    cached: CachedCalendar, backend: Recording, demo: Business, clock: FixedClock
) -> None:
    await cached.cache.warm(demo)
    await cached.cache.warm_soon(demo)  # the next call within the TTL costs the backend nothing
    assert backend.searches == len(demo.services)
    clock.advance(minutes=1)
    assert await cached.cache.warm(demo) == len(demo.services)
    assert backend.searches == 2 * len(demo.services)
    with pytest.raises(KeyError):
        cached.cache.warm_soon("no-such-business")


async def test_a_miss_fetches_once_even_when_asked_concurrently(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    results = await asyncio.gather(*(cached.find_slots("estimate", *tomorrow(demo)) for _ in range(5)))
    assert all(r == results[0] for r in results)
    assert backend.searches == 1


async def test_our_booking_invalidates_and_refreshes_in_the_background(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    await cached.cache.warm(demo)
    slot = (await cached.find_slots("emergency", *tomorrow(demo)))[0]
    booking = await cached.book(BookingRequest(service="emergency", start=slot.start, name="Ann", phone="+15035550101"))
    await cached.cache.drain()
    assert backend.searches == 2 * len(demo.services)  # warmed, then refreshed after the booking
    after = await cached.find_slots("emergency", *tomorrow(demo))
    assert slot.start not in {s.start for s in after}
    await cached.cancel(booking.uid, "changed plans")
    await cached.cache.drain()
    assert slot.start in {s.start for s in await cached.find_slots("emergency", *tomorrow(demo))}


async def test_webhook_invalidation_and_the_backend_always_rechecks(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    await cached.cache.warm(demo)
    slot = (await cached.find_slots("emergency", *tomorrow(demo)))[0]
    # Someone books behind the cache's back (another instance, or Cal.com itself).
    await backend.inner.book(BookingRequest(service="emergency", start=slot.start, name="Bo", phone="+15035550102"))
    assert slot.start in {s.start for s in await cached.find_slots("emergency", *tomorrow(demo))}  # stale
    with pytest.raises(SlotUnavailable):  # but holding goes to the backend, which knows
        await cached.hold(slot)
    with pytest.raises(SlotUnavailable):
        await cached.book(BookingRequest(service="emergency", start=slot.start, name="Cy", phone="+15035550103"))
    cached.cache.invalidate(demo)  # what the Cal.com webhook handler does
    await cached.cache.drain()
    assert slot.start not in {s.start for s in await cached.find_slots("emergency", *tomorrow(demo))}


async def test_stale_entries_are_served_while_a_refresh_runs(
    cached: CachedCalendar, backend: Recording, demo: Business, clock: FixedClock
) -> None:
    await cached.cache.warm(demo)
    first = await cached.find_slots("estimate", *tomorrow(demo))
    await backend.inner.book(BookingRequest(service="estimate", start=first[0].start, name="Bo", phone="+15035550102"))
    await backend.inner.book(BookingRequest(service="estimate", start=first[0].start, name="Di", phone="+15035550104"))
    clock.advance(minutes=2)  # past the TTL
    assert await cached.find_slots("estimate", *tomorrow(demo)) == first  # answered at once, from memory
    await cached.cache.drain()
    assert first[0].start not in {s.start for s in await cached.find_slots("estimate", *tomorrow(demo))}


async def test_time_passing_drops_slots_inside_the_notice(
    cached: CachedCalendar, demo: Business, clock: FixedClock
) -> None:
    today = (at(demo, 24, 0), at(demo, 25, 0))
    await cached.cache.warm(demo)
    assert (await cached.find_slots("service-call", *today))[0].start == at(demo, 24, 12)
    clock.set(at(demo, 24, 10, 45))  # served from memory, but the notice moves with the clock
    starts = [s.start for s in await cached.find_slots("service-call", *today)]
    assert starts[0] == at(demo, 24, 13)


async def test_windows_beyond_the_prefetch_and_reschedules_go_to_the_backend(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    await cached.cache.warm(demo)
    far = (at(demo, 24, 0) + timedelta(days=20), at(demo, 24, 0) + timedelta(days=21))
    assert await cached.find_slots("estimate", *far) == await backend.inner.find_slots("estimate", *far)
    booking = await cached.book(
        BookingRequest(service="emergency", start=at(demo, 25, 9), name="Ann", phone="+15035550101")
    )
    await cached.cache.drain()
    before = backend.searches
    free = await cached.find_slots("emergency", *tomorrow(demo), reschedule_uid=booking.uid)
    assert at(demo, 25, 9) in {s.start for s in free} and backend.searches == before + 1


async def test_an_answer_fetched_before_an_invalidation_is_not_kept(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    backend.gate = asyncio.Event()
    pending = asyncio.create_task(cached.find_slots("emergency", *tomorrow(demo)))
    await backend.entered.wait()  # the fetch has started and is waiting on the backend
    await backend.inner.book(BookingRequest(service="emergency", start=at(demo, 25, 7), name="B", phone="+15035550102"))
    cached.cache.invalidate(demo)
    backend.gate.set()
    await pending
    await cached.cache.drain()
    fresh = await cached.find_slots("emergency", *tomorrow(demo))
    assert at(demo, 25, 7) not in {s.start for s in fresh}


async def test_a_failing_backend_does_not_break_warm(
    cached: CachedCalendar, backend: Recording, demo: Business
) -> None:
    backend.fail = True
    assert await cached.cache.warm(demo) == 0
    with pytest.raises(CalendarUnavailable):
        await cached.find_slots("estimate", *tomorrow(demo))
    backend.fail = False
    assert await cached.find_slots("estimate", *tomorrow(demo))


async def test_the_component_opens_a_cached_calendar_per_business(settings: Settings, demo: Business) -> None:
    other = demo.model_copy(update={"slug": "dana-drains", "numbers": ("+15035550111",)})
    runtime = await open_runtime(settings, Businesses([demo, other]), FixedClock(at(demo, 24, 10)))
    try:
        await runtime.start_components([CalendarComponent()])
        assert set(runtime.calendars) == {"mikes-plumbing", "dana-drains"}
        calendar = runtime.calendars["mikes-plumbing"]
        assert isinstance(calendar, CachedCalendar) and isinstance(calendar.port, LocalCalendar)
        cache = runtime.slot_cache
        assert isinstance(cache, SlotCache)
        await cache.warm_soon("mikes-plumbing")
        assert await calendar.find_slots("estimate", *tomorrow(demo))
        assert cache.hits == 1
    finally:
        await runtime.close()
    parts = CalendarParts(settings=settings, db=runtime.db, http=None, clock=runtime.clock)
    assert isinstance(open_calendar(demo, parts), LocalCalendar)


async def test_open_calendar_picks_the_backend_the_business_names(settings: Settings, demo: Business) -> None:
    import httpx

    services = tuple(s.model_copy(update={"calcom_event_type_id": 100 + i}) for i, s in enumerate(demo.services))
    on_calcom = demo.model_copy(update={"calendar": "calcom", "services": services})
    keyed = settings.model_copy(update={"calcom_api_key": "cal_test_key"})
    async with httpx.AsyncClient() as http:
        calendar = open_calendar(
            on_calcom, CalendarParts(settings=keyed, db=None, http=http, clock=FixedClock(at(demo, 24, 10)))
        )
        assert type(calendar).__name__ == "CalcomCalendar" and calendar.business is on_calcom
    with pytest.raises(ValueError):
        open_calendar(on_calcom, CalendarParts(settings=keyed, db=None, http=None, clock=FixedClock(at(demo, 24, 10))))


async def test_the_component_forgets_what_other_instances_say_changed(settings: Settings, demo: Business) -> None:
    """The cache hears other instances through its database's change hub (PostgreSQL LISTEN/NOTIFY hands
    their notifications to it; tests/calendar/test_cache_across_instances.py runs that end to end)."""
    import json

    runtime = await open_runtime(settings, Businesses([demo]), FixedClock(at(demo, 24, 10)))
    try:
        await runtime.start_components([CalendarComponent()])
        calendar, cache, hub = runtime.calendars[demo.slug], runtime.slot_cache, runtime.db.changes
        assert isinstance(cache, SlotCache)

        async def asks_the_backend() -> bool:
            misses = cache.misses
            await calendar.find_slots("estimate", *tomorrow(demo))
            return cache.misses > misses

        def told(origin: str, kind: str = "slots", business: str = demo.slug) -> None:
            change = {"kind": kind, "business": business, "key": "", "id": None}
            hub.receive_notification(json.dumps({"origin": origin, "changes": [change]}))

        await cache.warm(demo)
        assert not await asks_the_backend()
        told(hub.origin)  # this instance's own announcement, echoed back: nothing to do
        told("another-instance", kind="booking")  # a booking row: the dashboard's news, not the cache's
        told("another-instance", business="someone-else")
        assert not await asks_the_backend()
        told("another-instance")
        assert await asks_the_backend()
        assert not await asks_the_backend()  # fetched again, and kept

        hub.publish_catch_up()  # the LISTEN connection dropped and came back: anything may have been missed
        assert await asks_the_backend()
    finally:
        await runtime.close()
