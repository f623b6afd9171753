"""`silentpartner jobs parked` and `jobs retry`, run as a real process against a database where a job
really failed its way to parked through the queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from silentpartner.store import Database, Job, jobs, migrate

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def _run(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "silentpartner", "jobs", *args], capture_output=True, text=True, env=env, timeout=120
    )


async def _park_a_job(db_url: str) -> int:
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            job = await jobs.enqueue(
                session,
                "reminder",
                {"booking_uid": "b1"},
                run_at=NOW,
                business="mikes-plumbing",
                max_attempts=2,
                now=NOW,
            )
            assert job is not None
            job_id = job.id
        now = NOW
        for attempt in (1, 2):
            async with db.session() as session:
                (claimed,) = await jobs.claim(session, "w1", now=now)
            async with db.session() as session:
                status = await jobs.fail(
                    session, claimed.id, f"Twilio said 500 (attempt {attempt})", now=now, worker_id="w1"
                )
            now += jobs.backoff_for(attempt)  # the retry comes due after its backoff
        assert status == jobs.PARKED
        return job_id
    finally:
        await db.close()


async def _status(db_url: str, job_id: int) -> str:
    db = Database(db_url)
    try:
        async with db.session() as session:
            return (await session.get(Job, job_id)).status
    finally:
        await db.close()


async def test_parked_jobs_are_listed_and_can_be_retried(db_url: str) -> None:
    job_id = await _park_a_job(db_url)

    listed = _run("parked", "--json", db_url=db_url)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["id"] == job_id and row["kind"] == "reminder" and row["attempts"] == 2
    assert row["last_error"] == "Twilio said 500 (attempt 2)"

    text = _run("parked", "--business", "mikes-plumbing", db_url=db_url)
    assert f"#{job_id} reminder (mikes-plumbing)" in text.stdout

    retried = _run("retry", str(job_id), db_url=db_url)
    assert retried.returncode == 0, retried.stderr
    assert await _status(db_url, job_id) == jobs.PENDING
    assert "no parked jobs" in _run("parked", db_url=db_url).stdout

    again = _run("retry", str(job_id), db_url=db_url)
    assert again.returncode == 1 and "is not parked" in again.stderr
