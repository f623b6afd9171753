"""The durable job queue: enqueue/dedupe, claim, backoff, park, drop and reschedule by key, restarts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from silentpartner.store import jobs, migrate
from silentpartner.store.db import Database
from silentpartner.store.models import Job
from tests.conftest import PINNED_NOW

NOW = PINNED_NOW


async def _db(url: str) -> Database:
    db = Database(url)
    await migrate.upgrade(db)
    return db


async def test_enqueue_dedupes_and_claims_once(db_url: str) -> None:
    db = await _db(db_url)
    try:
        async with db.session() as s:
            first = await jobs.enqueue(s, "sms", {"to": "+15035550111"}, run_at=NOW, dedupe_key="k1")
            again = await jobs.enqueue(s, "sms", {"to": "+15035550111"}, run_at=NOW, dedupe_key="k1")
            later = await jobs.enqueue(s, "sms", {}, run_at=NOW + timedelta(hours=1))
        assert first is not None and again is None and later is not None
        async with db.session() as s:
            claimed = await jobs.claim(s, "w1", now=NOW)
        assert [j.id for j in claimed] == [first.id]
        async with db.session() as s:
            assert await jobs.claim(s, "w2", now=NOW) == []
        async with db.session() as s:
            assert await jobs.complete(s, first.id, now=NOW, worker_id="w1")
        async with db.session() as s:
            assert (await s.get(Job, first.id)).status == "done"
    finally:
        await db.close()


async def test_failing_job_backs_off_then_parks(sqlite_url: str) -> None:
    db = await _db(sqlite_url)
    try:
        async with db.session() as s:
            job = await jobs.enqueue(s, "reminder", {}, run_at=NOW, max_attempts=3, business="mikes-plumbing")
        now = NOW
        delays = []
        for attempt in range(1, 4):
            async with db.session() as s:
                (claimed,) = await jobs.claim(s, "w", now=now)
                assert claimed.attempts == attempt
                status = await jobs.fail(s, claimed.id, "boom", now=now, worker_id="w")
            async with db.session() as s:
                row = await s.get(Job, job.id)
            if attempt < 3:
                assert status == "pending"
                delays.append(row.run_at - now)
                async with db.session() as s:
                    assert await jobs.claim(s, "w", now=now) == []  # not due yet
                now = row.run_at
            else:
                assert status == "parked" and row.last_error == "boom"
        assert delays == [timedelta(seconds=30), timedelta(seconds=60)]
        async with db.session() as s:
            assert [j.id for j in await jobs.parked(s, "mikes-plumbing")] == [job.id]
            assert await jobs.claim(s, "w", now=now + timedelta(days=1)) == []
    finally:
        await db.close()


async def test_drop_and_reschedule_by_key(sqlite_url: str) -> None:
    db = await _db(sqlite_url)
    try:
        async with db.session() as s:
            await jobs.enqueue(s, "reminder", {"h": 24}, run_at=NOW + timedelta(hours=5), dedupe_key="reminder:b1:24")
            await jobs.enqueue(s, "reminder", {"h": 2}, run_at=NOW + timedelta(hours=6), dedupe_key="reminder:b1:2")
            await jobs.enqueue(s, "reminder", {"h": 2}, run_at=NOW + timedelta(hours=6), dedupe_key="reminder:b10:2")
        async with db.session() as s:
            assert await jobs.reschedule(s, "reminder:b1:24", run_at=NOW + timedelta(hours=9))
            assert not await jobs.reschedule(s, "reminder:nope", run_at=NOW)
        async with db.session() as s:
            assert await jobs.drop_prefix(s, "reminder:b1:") == 2
        async with db.session() as s:
            claimed = await jobs.claim(s, "w", now=NOW + timedelta(days=1))
        assert [j.dedupe_key for j in claimed] == ["reminder:b10:2"]
    finally:
        await db.close()


async def test_finished_jobs_are_purged_but_parked_ones_stay(sqlite_url: str) -> None:
    db = await _db(sqlite_url)
    try:
        async with db.session() as s:
            for kind in ("done", "parked", "pending"):
                await jobs.enqueue(s, kind, {}, run_at=NOW, max_attempts=1, now=NOW)
        async with db.session() as s:
            claimed = {j.kind: j for j in await jobs.claim(s, "w", now=NOW, kinds=["done", "parked"])}
            await jobs.complete(s, claimed["done"].id, now=NOW)
            await jobs.fail(s, claimed["parked"].id, "boom", now=NOW)
        async with db.session() as s:
            assert await jobs.purge_finished(s, before=NOW) == 0
            assert await jobs.purge_finished(s, before=NOW + timedelta(days=1)) == 1
        async with db.session() as s:
            from sqlalchemy import select

            assert sorted((await s.scalars(select(Job.status))).all()) == ["parked", "pending"]
    finally:
        await db.close()


async def test_jobs_survive_a_restart_and_expired_leases_are_reclaimed(sqlite_url: str) -> None:
    db = await _db(sqlite_url)
    async with db.session() as s:
        await jobs.enqueue(s, "reconcile", {"business": "mikes-plumbing"}, run_at=NOW)
    async with db.session() as s:
        (claimed,) = await jobs.claim(s, "crashed-worker", now=NOW, lease=timedelta(minutes=1))
    await db.close()  # the process dies holding the job

    db = await _db(sqlite_url)
    try:
        async with db.session() as s:
            assert await jobs.claim(s, "w2", now=NOW + timedelta(seconds=30)) == []
        async with db.session() as s:
            (again,) = await jobs.claim(s, "w2", now=NOW + timedelta(minutes=2))
        assert again.id == claimed.id and again.attempts == 2 and again.locked_by == "w2"
        async with db.session() as s:
            assert not await jobs.complete(s, again.id, now=NOW, worker_id="crashed-worker")
            assert await jobs.complete(s, again.id, now=NOW, worker_id="w2")
    finally:
        await db.close()


@pytest.mark.postgres
async def test_concurrent_enqueue_with_same_key_on_postgres(postgres_db_url: str) -> None:
    import asyncio

    db = await _db(postgres_db_url)
    try:

        async def add() -> Job | None:
            async with db.session() as s:
                return await jobs.enqueue(s, "sms", {}, run_at=NOW, dedupe_key="same")

        results = await asyncio.gather(*(add() for _ in range(5)), return_exceptions=True)
        async with db.session() as s:
            from sqlalchemy import func, select

            assert await s.scalar(select(func.count()).select_from(Job)) == 1
        assert all(r is None or isinstance(r, Job) for r in results), results
        assert sum(isinstance(r, Job) for r in results) == 1
    finally:
        await db.close()
