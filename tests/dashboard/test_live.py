"""Live changes: the store tells this process's listeners which calls, bookings and texts changed when a
transaction commits (not when it rolls back); on PostgreSQL other instances hear of it through LISTEN/NOTIFY,
and the dashboard's event stream carries it to the owner of that business only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from silentpartner.business import parse_businesses
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest
from silentpartner.clock import FixedClock
from silentpartner.dashboard import live
from silentpartner.store import Database, migrate
from silentpartner.store.changes import CATCH_UP, Change, ChangeHub, Subscription
from silentpartner.store.changes_listener import ChangeListener
from silentpartner.store.models import CallRecord
from silentpartner.voice import records
from tests.conftest import PINNED_NOW
from tests.dashboard.dashboard_app import (
    MIKE_TOKEN,
    SPARKS_TOKEN,
    businesses_toml,
    dashboard_app,
    run_async,
)

BUSINESSES = parse_businesses(businesses_toml())
MIKE = BUSINESSES.get("mikes-plumbing")


async def next_change(subscription: Subscription, within: float = 5.0) -> Change | object | None:
    async with asyncio.timeout(within):
        return await subscription.next()


async def open_test_call(db: Database, sid: str, business: str = "mikes-plumbing") -> None:
    await records.open_call(
        db,
        sid=sid,
        business=business,
        from_number="+15035550123",
        to_number="+15035550100",
        forwarded_from=None,
        is_owner=False,
        channel="phone",
        now=PINNED_NOW,
    )


async def test_a_commit_tells_this_process_and_a_rollback_does_not(sqlite_db: Database) -> None:
    with sqlite_db.changes.subscribe() as subscription:
        await open_test_call(sqlite_db, "CAlive1")
        change = await next_change(subscription)
        assert change == Change("call", "mikes-plumbing", "CAlive1", change.id)  # type: ignore[union-attr]
        with pytest.raises(RuntimeError):
            async with sqlite_db.session() as session:
                session.add(CallRecord(sid="CAnever", business="mikes-plumbing", started_at=PINNED_NOW))
                await session.flush()
                raise RuntimeError("rolled back")
        await records.update_call(sqlite_db, "CAlive1", status="in-progress")
        assert (await next_change(subscription)).key == "CAlive1"  # type: ignore[union-attr]
        assert subscription.queue.empty()  # nothing about CAnever


async def test_a_subscriber_that_falls_behind_is_told_to_catch_up() -> None:
    hub = ChangeHub()
    with hub.subscribe() as subscription:
        hub.publish([Change("call", "b", str(i)) for i in range(subscription.queue.maxsize + 5)])
        assert await next_change(subscription) is CATCH_UP
        assert subscription.queue.empty()
        hub.close()
        assert await next_change(subscription) is None


def publish_some(hub: ChangeHub) -> None:
    hub.publish(
        [
            Change("call", "sparks-electric", "CAtheirs", 7),
            Change("booking", "mikes-plumbing", "loc-1", 3),
            Change("call", "mikes-plumbing", "CAmine", 8),
        ]
    )
    hub.publish_catch_up()


async def stream_with_changes(hub: ChangeHub, **options: object) -> str:
    """The whole stream, with `publish_some` once it has subscribed (it says `ready` then)."""
    stream = live.stream(hub, MIKE, **options)  # type: ignore[arg-type]
    first = await anext(stream)
    publish_some(hub)
    return first + "".join([chunk async for chunk in stream])


async def test_the_event_stream_carries_only_the_owners_business_and_ends() -> None:
    hub = ChangeHub()
    text = await stream_with_changes(hub, lifetime=0.5, keepalive=0.2)
    assert text.startswith("retry: 1000\nevent: ready\n")
    assert "CAtheirs" not in text
    assert 'event: booking\ndata: {"kind":"booking","key":"loc-1","id":3}' in text
    assert 'event: call\ndata: {"kind":"call","key":"CAmine","id":8}' in text
    assert "event: refresh\n" in text
    assert ": keepalive\n" in text
    assert hub.subscribers == 0  # the stream ended and let go of its subscription
    # Narrowed to one call: the booking and the other call are left out.
    narrowed = await stream_with_changes(hub, call_sid="CAother", lifetime=0.3)
    assert "event: call" not in narrowed and "event: booking" not in narrowed


@pytest.mark.postgres
async def test_another_instance_hears_of_a_change_through_postgres(postgres_db_url: str) -> None:
    first, second = Database(postgres_db_url), Database(postgres_db_url)
    await migrate.upgrade(first)
    listeners = [ChangeListener(first), ChangeListener(second)]
    try:
        for listener in listeners:
            listener.start()
        for listener in listeners:
            await asyncio.wait_for(listener.listening.wait(), 10)
        with first.changes.subscribe() as here, second.changes.subscribe() as there:
            await open_test_call(first, "CApg1")
            assert (await next_change(there)).key == "CApg1"  # type: ignore[union-attr]
            assert (await next_change(here)).key == "CApg1"  # type: ignore[union-attr]
            # The writer hears of its own change once (in process), not again through its LISTEN.
            with pytest.raises(TimeoutError):
                await next_change(here, within=0.5)
            # A rolled-back change is sent nowhere.
            with pytest.raises(RuntimeError):
                async with first.session() as session:
                    session.add(CallRecord(sid="CApgnever", business="mikes-plumbing", started_at=PINNED_NOW))
                    await session.flush()
                    raise RuntimeError("rolled back")
            with pytest.raises(TimeoutError):
                await next_change(there, within=0.5)
    finally:
        for listener in listeners:
            await listener.stop()
        await first.close()
        await second.close()


@pytest.mark.postgres
def test_the_dashboard_streams_a_booking_made_by_another_instance(postgres_db_url: str, tmp_path) -> None:
    """The server on PostgreSQL; the booking is written by this test's own connection (another instance)."""
    with dashboard_app(tmp_path, PINNED_NOW, database_url=postgres_db_url) as app:

        async def book_elsewhere() -> str:
            db = Database(postgres_db_url)
            try:
                calendar = LocalCalendar(MIKE, db, FixedClock(PINNED_NOW))
                start = PINNED_NOW.astimezone(MIKE.tz).replace(hour=15, minute=0) + timedelta(days=2)
                booking = await calendar.book(
                    BookingRequest(service="estimate", start=start, name="Pat Doe", phone="+15035550188")
                )
                return booking.uid
            finally:
                await db.close()

        async def touch_sparks_call() -> None:
            db = Database(postgres_db_url)
            try:
                await records.update_call(db, app.seeded.call_sids["sparks"], status="completed")
            finally:
                await db.close()

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        with (
            httpx.Client(base_url=app.url, timeout=15) as client,
            client.stream("GET", "/dashboard/events", headers=bearer(MIKE_TOKEN)) as mine,
            client.stream("GET", "/dashboard/events", headers=bearer(SPARKS_TOKEN)) as theirs,
        ):
            assert mine.status_code == 200 and mine.headers["content-type"].startswith("text/event-stream")
            mike_events, sparks_events = sse_events(mine), sse_events(theirs)
            assert next(mike_events) == ("ready", {}) and next(sparks_events) == ("ready", {})
            uid = run_async(book_elsewhere())
            name, data = next(mike_events)
            assert (name, data["key"]) == ("booking", uid)
            # The other business's owner hears of their own call, and heard nothing of the booking before it.
            run_async(touch_sparks_call())
            assert next(sparks_events) == (
                "call",
                {"kind": "call", "key": app.seeded.call_sids["sparks"], "id": app.seeded.calls["sparks"]},
            )


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(event name, data) as they come; comment lines (keepalives) are skipped."""
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))
