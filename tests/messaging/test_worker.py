"""The job worker: exactly-once across instances on PostgreSQL, backoff then park, jobs that outlive a
restart, prompt wake-up on enqueue, and the reconcile job catching a webhook Cal.com never sent."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from silentpartner.app import open_runtime
from silentpartner.calendar.port import BookingRequest
from silentpartner.clock import FixedClock
from silentpartner.messaging.worker import JobWorker
from silentpartner.runtime import Runtime
from silentpartner.settings import Settings
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord, Job, SyncState
from tests.messaging.conftest import CUSTOMER, Bench


async def _runtime(url: str, clock: FixedClock) -> Runtime:
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    return await open_runtime(settings, clock=clock)


class Recorder:
    """Handlers for a test job kind: who ran which job, and a job kind that always fails."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, int]] = []
        self.all_done = asyncio.Event()
        self.expect = 0

    def handlers(self, worker_name: str):
        async def count(_runtime: Runtime, job: Job) -> None:
            self.ran.append((worker_name, job.payload["n"]))
            await asyncio.sleep(0)  # give the other worker's claims a chance to interleave
            if len(self.ran) >= self.expect:
                self.all_done.set()

        async def broken(_runtime: Runtime, job: Job) -> None:
            raise RuntimeError(f"boom {job.attempts}")

        return {"count": count, "broken": broken}


@pytest.mark.postgres
async def test_two_workers_on_postgres_run_200_jobs_exactly_once(postgres_db_url: str, clock: FixedClock) -> None:
    first, second = await _runtime(postgres_db_url, clock), await _runtime(postgres_db_url, clock)
    recorder = Recorder()
    recorder.expect = 200
    async with first.db.session() as session:
        for n in range(200):
            await jobs.enqueue(session, "count", {"n": n}, run_at=clock.now() - timedelta(seconds=1), now=clock.now())
    workers = [
        JobWorker(
            worker_id=name, handlers=recorder.handlers(name), batch_size=5, poll_interval=0.05, schedule_recurring=False
        )
        for name in ("w1", "w2")
    ]
    try:
        await workers[0].start(first)
        await workers[1].start(second)
        await asyncio.wait_for(recorder.all_done.wait(), timeout=60)
        await workers[0].until_idle()
        await workers[1].until_idle()
    finally:
        for worker in workers:
            await worker.stop()
    numbers = Counter(n for _, n in recorder.ran)
    assert sorted(numbers) == list(range(200)) and set(numbers.values()) == {1}
    by_worker = Counter(name for name, _ in recorder.ran)
    assert by_worker["w1"] > 0 and by_worker["w2"] > 0, by_worker
    async with first.db.session() as session:
        done = await session.scalar(select(func.count()).select_from(Job).where(Job.status == "done"))
    assert done == 200
    await first.close()
    await second.close()


async def test_a_failing_job_backs_off_then_parks(sqlite_url: str, clock: FixedClock) -> None:
    runtime = await _runtime(sqlite_url, clock)
    recorder = Recorder()
    worker = JobWorker(worker_id="w", handlers=recorder.handlers("w"), poll_interval=0.05, schedule_recurring=False)
    try:
        async with runtime.db.session() as session:
            job = await jobs.enqueue(
                session, "broken", {}, run_at=clock.now(), business="mikes-plumbing", max_attempts=3, now=clock.now()
            )
        await worker.start(runtime)
        seen = []
        for _ in range(3):
            await worker.until_idle()
            async with runtime.db.session() as session:
                row = await session.get(Job, job.id)
            seen.append((row.status, row.attempts, row.run_at - clock.now()))
            clock.set(row.run_at)
        assert seen[0] == ("pending", 1, timedelta(seconds=30))
        assert seen[1] == ("pending", 2, timedelta(seconds=60))
        assert seen[2][:2] == ("parked", 3)
        async with runtime.db.session() as session:
            (parked,) = await jobs.parked(session, "mikes-plumbing")
        assert "RuntimeError: boom 3" in (parked.last_error or "")
    finally:
        await worker.stop()
        await runtime.close()


async def test_jobs_survive_a_restart(sqlite_url: str, clock: FixedClock) -> None:
    runtime = await _runtime(sqlite_url, clock)
    async with runtime.db.session() as session:
        await jobs.enqueue(session, "count", {"n": 7}, run_at=clock.now() + timedelta(hours=1), now=clock.now())
    await runtime.close()  # the instance goes away before the job is due

    clock.advance(hours=1)
    runtime = await _runtime(sqlite_url, clock)
    recorder = Recorder()
    recorder.expect = 1
    worker = JobWorker(worker_id="w", handlers=recorder.handlers("w"), poll_interval=0.05, schedule_recurring=False)
    try:
        await worker.start(runtime)
        await asyncio.wait_for(recorder.all_done.wait(), timeout=10)
        assert recorder.ran == [("w", 7)]
    finally:
        await worker.stop()
        await runtime.close()


async def test_worker_wakes_on_enqueue_without_waiting_for_the_poll(sqlite_url: str, clock: FixedClock) -> None:
    runtime = await _runtime(sqlite_url, clock)
    recorder = Recorder()
    recorder.expect = 1
    # A poll interval far beyond the test's timeout: only the in-process wake-up can run the job in time.
    worker = JobWorker(worker_id="w", handlers=recorder.handlers("w"), poll_interval=3600, schedule_recurring=False)
    try:
        await worker.start(runtime)
        await worker.until_idle()
        async with runtime.db.session() as session:
            await jobs.enqueue(session, "count", {"n": 1}, run_at=clock.now(), now=clock.now())
        await asyncio.wait_for(recorder.all_done.wait(), timeout=5)
    finally:
        await worker.stop()
        await runtime.close()


async def test_run_jobs_false_starts_no_loop(sqlite_url: str, clock: FixedClock) -> None:
    settings = Settings(database_url=sqlite_url, run_jobs=False, _env_file=None)  # type: ignore[call-arg]
    runtime = await open_runtime(settings, clock=clock)
    worker = JobWorker(worker_id="w")
    await worker.start(runtime)
    assert worker._task is None
    await worker.stop()
    await runtime.close()


async def test_reconcile_applies_a_booking_whose_webhook_never_came(bench: Bench) -> None:
    already = await bench.book_online("2026-11-26T17:00:00.000Z", phone="+15035550188")  # before we were set up
    recurring = await bench.rows(Job, Job.kind == "reconcile", Job.status == "pending")
    assert len(recurring) == 1 and recurring[0].run_at == bench.clock.now() + timedelta(minutes=10)
    bench.clock.advance(minutes=10)
    await bench.drain()
    # The first poll learns what exists (mirror and reminders) but texts nobody out of the blue.
    (known,) = await bench.rows(BookingRecord)
    assert known.uid == already["uid"] and bench.twilio.messages == []
    assert len(await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")) == 2
    (cursor,) = await bench.rows(SyncState)
    assert cursor.key == "calcom:reconcile:mikes-plumbing" and cursor.value == bench.clock.now().isoformat()

    booking = await bench.book_online("2026-11-25T22:00:00.000Z")  # Cal.com never delivers its webhook
    bench.clock.advance(minutes=10)
    await bench.drain()
    (row,) = await bench.rows(BookingRecord, BookingRecord.uid == booking["uid"])
    assert row.status == "accepted"
    (text,) = bench.twilio.messages_to(CUSTOMER)
    assert text.body.startswith("You're booked with Mike's Plumbing for Wed Nov 25 at 2:00 PM")
    assert bench.calcom is not None
    assert any("afterUpdatedAt" in query for method, path, query in bench.calcom.requests if path == "/v2/bookings")
    # The next round is scheduled; a pass with no changes sends nothing new.
    bench.clock.advance(minutes=10)
    await bench.drain()
    assert len(bench.twilio.messages_to(CUSTOMER)) == 1


async def test_local_calendar_bookings_get_reminders_and_a_review_request(local_bench: Bench) -> None:
    from datetime import UTC, datetime

    bench = local_bench

    async def book(_session) -> str:
        calendar = bench.runtime.calendars[bench.business.slug]
        booking = await calendar.book(
            BookingRequest(
                service="service-call",
                start=datetime(2026, 11, 26, 17, 0, tzinfo=UTC),  # Thu 9 AM in Portland
                name="Ann Lee",
                phone=CUSTOMER,
                address="9 Elm St",
                source="cli",
            )
        )
        return booking.uid

    uid = await bench.db(book)
    bench.clock.advance(minutes=10)  # the reconcile round picks the new booking up
    await bench.drain()
    pending = {j.dedupe_key: j for j in await bench.rows(Job, Job.status == "pending")}
    assert f"reminder:{uid}:24" in pending and f"reminder:{uid}:2" in pending
    review = pending[f"review_request:{uid}"]
    assert review.run_at == datetime(2026, 11, 26, 18, 0, tzinfo=UTC) + timedelta(hours=2)

    bench.clock.set(pending[f"reminder:{uid}:24"].run_at)
    await bench.drain()
    assert bench.twilio.messages_to(CUSTOMER)[-1].body.startswith("Reminder: Mike's Plumbing is booked for Thu Nov 26")
    bench.clock.set(review.run_at)
    await bench.drain()
    assert bench.twilio.messages_to(CUSTOMER)[-1].body.startswith("Hi Ann, thanks for choosing Mike's Plumbing!")


async def test_reconcile_gives_a_call_booking_reminders_when_its_webhook_is_lost(bench: Bench) -> None:

    bench.clock.advance(minutes=10)
    await bench.drain()  # the first (quiet) reconcile round sets the cursor

    uid = await bench.book_on_a_call("CA0002")
    assert await bench.rows(Job, Job.kind == "reminder") == []
    bench.clock.advance(minutes=10)
    await bench.drain()
    reminders = await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")
    assert sorted(j.dedupe_key for j in reminders) == [f"reminder:{uid}:2", f"reminder:{uid}:24"]
    assert bench.twilio.messages == []  # the call confirmed it; reconcile must not
