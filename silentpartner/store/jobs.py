"""The durable job queue: rows in the `jobs` table, claimed exactly once by whichever worker gets there first.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so N instances each take different rows without waiting
on one another. SQLite has one writer at a time (the session begins `IMMEDIATE`), so the claiming
transaction is already exclusive. A claimed row carries a lease (`locked_until`); a worker that dies
mid-job leaves a lease that runs out, and the job is claimed again. Failures back off exponentially and
a job that keeps failing is parked (status `parked`) where the owner can see it.

Anything that lives in-process and wants to hear about new jobs (the worker) registers a listener with
`on_enqueue`; it is called after the enqueueing transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from silentpartner.logs import log_event
from silentpartner.store.models import Job

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, PARKED, DROPPED = "pending", "running", "done", "parked", "dropped"
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_LEASE = timedelta(minutes=5)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=2)

_listeners: list[Callable[[], None]] = []


def on_enqueue(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener()` whenever a job is enqueued in this process (after commit). Returns an unsubscribe."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


def _notify_after_commit(session: AsyncSession) -> None:
    from sqlalchemy import event

    def fire(_session) -> None:
        for listener in list(_listeners):
            try:
                listener()
            except Exception:  # a listener must never break the enqueueing transaction's caller
                log.exception("jobs.listener_failed")

    event.listen(session.sync_session, "after_commit", fire, once=True)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("job times must be timezone-aware")
    return value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime,
    business: str | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Job | None:
    """Add a job in the caller's transaction. None when a job with `dedupe_key` already exists."""
    created = _utc(now) if now else _now()
    if dedupe_key is not None:
        existing = await session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    job = Job(
        kind=kind,
        business=business,
        payload=dict(payload),
        dedupe_key=dedupe_key,
        run_at=_utc(run_at),
        status=PENDING,
        attempts=0,
        max_attempts=max_attempts,
        created_at=created,
        updated_at=created,
    )
    if dedupe_key is None:
        session.add(job)
        await session.flush()
    else:
        # A racing enqueuer with the same key loses on the unique index; the savepoint keeps the
        # caller's transaction usable.
        try:
            async with session.begin_nested():
                session.add(job)
                await session.flush()
        except IntegrityError:
            return None
    _notify_after_commit(session)
    return job


async def claim(
    session: AsyncSession,
    worker_id: str,
    *,
    now: datetime,
    limit: int = 10,
    kinds: Sequence[str] | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Job]:
    """Take up to `limit` due jobs for `worker_id`. Commit the session to publish the claim."""
    now = _utc(now)
    due = or_(
        and_(Job.status == PENDING, Job.run_at <= now),
        # A worker that died mid-job: its lease ran out, so the job is up for grabs again.
        and_(Job.status == RUNNING, Job.locked_until < now),
    )
    query = select(Job).where(due).order_by(Job.run_at, Job.id).limit(limit)
    if kinds:
        query = query.where(Job.kind.in_(list(kinds)))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    jobs = list((await session.scalars(query)).all())
    for job in jobs:
        job.status = RUNNING
        job.locked_by = worker_id
        job.locked_until = now + lease
        job.attempts = (job.attempts or 0) + 1
        job.updated_at = now
    await session.flush()
    return jobs


async def complete(session: AsyncSession, job_id: int, *, now: datetime, worker_id: str | None = None) -> bool:
    """Mark a job done. False when it is no longer ours (lease lost, dropped meanwhile)."""
    query = update(Job).where(Job.id == job_id, Job.status == RUNNING)
    if worker_id is not None:
        query = query.where(Job.locked_by == worker_id)
    result = await session.execute(
        query.values(status=DONE, locked_by=None, locked_until=None, last_error=None, updated_at=_utc(now))
    )
    return (result.rowcount or 0) > 0


def backoff_for(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at 2 h."""
    delay = BASE_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


async def fail(
    session: AsyncSession, job_id: int, error: str, *, now: datetime, worker_id: str | None = None
) -> str | None:
    """Record a failed attempt: back off and retry, or park after `max_attempts`. Returns the new status."""
    now = _utc(now)
    job = await session.get(Job, job_id, with_for_update=_is_postgres(session))
    if job is None or job.status != RUNNING or (worker_id is not None and job.locked_by != worker_id):
        return None
    job.last_error = error.replace("\x00", "")[:4000]  # PostgreSQL text cannot hold NUL
    job.locked_by = None
    job.locked_until = None
    job.updated_at = now
    if job.attempts >= job.max_attempts:
        job.status = PARKED
        log_event(
            log,
            "job.parked",
            logging.WARNING,
            job_id=job.id,
            kind=job.kind,
            business=job.business,
            attempts=job.attempts,
        )
    else:
        job.status = PENDING
        job.run_at = now + backoff_for(job.attempts)
    await session.flush()
    return job.status


async def drop(session: AsyncSession, dedupe_key: str, *, now: datetime | None = None) -> bool:
    """Drop a pending job by its dedupe key (a cancelled booking's reminder). True when one was dropped."""
    result = await session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == PENDING)
        .values(status=DROPPED, updated_at=_utc(now) if now else _now())
    )
    return (result.rowcount or 0) > 0


async def drop_prefix(session: AsyncSession, prefix: str, *, now: datetime | None = None) -> int:
    """Drop every pending job whose dedupe key starts with `prefix` (all reminders of one booking)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        update(Job)
        .where(Job.dedupe_key.like(escaped + "%", escape="\\"), Job.status == PENDING)
        .values(status=DROPPED, updated_at=_utc(now) if now else _now())
    )
    return result.rowcount or 0


async def reschedule(
    session: AsyncSession,
    dedupe_key: str,
    *,
    run_at: datetime,
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Move a pending job (a moved booking's reminder) to `run_at`. False when no pending job has the key."""
    values: dict[str, Any] = {"run_at": _utc(run_at), "updated_at": _utc(now) if now else _now()}
    if payload is not None:
        values["payload"] = dict(payload)
    result = await session.execute(
        update(Job).where(Job.dedupe_key == dedupe_key, Job.status == PENDING).values(**values)
    )
    return (result.rowcount or 0) > 0


async def upsert(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime,
    dedupe_key: str,
    business: str | None = None,
    now: datetime | None = None,
) -> Job | None:
    """Schedule a keyed job, or move the pending one with that key. A finished job under the key is replaced."""
    if await reschedule(session, dedupe_key, run_at=run_at, payload=payload, now=now):
        return await session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
    existing = await session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
    if existing is not None:
        if existing.status == RUNNING:
            return None
        # done / dropped / parked: free the key so the new schedule can take it.
        await session.execute(delete(Job).where(Job.id == existing.id))
        await session.flush()
    return await enqueue(session, kind, payload, run_at=run_at, business=business, dedupe_key=dedupe_key, now=now)


async def parked(session: AsyncSession, business: str | None = None) -> list[Job]:
    """Jobs that kept failing, for the owner to see."""
    query = select(Job).where(Job.status == PARKED).order_by(Job.updated_at.desc())
    if business is not None:
        query = query.where(Job.business == business)
    return list((await session.scalars(query)).all())


async def requeue(session: AsyncSession, job_id: int, *, now: datetime) -> bool:
    """Give a parked job another round of attempts (an owner pressed retry)."""
    now = _utc(now)
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == PARKED)
        .values(status=PENDING, attempts=0, run_at=now, last_error=None, updated_at=now)
    )
    if (result.rowcount or 0) > 0:
        _notify_after_commit(session)
        return True
    return False


async def purge_finished(session: AsyncSession, *, before: datetime) -> int:
    """Delete done and dropped jobs last touched before `before` (parked ones stay for the owner)."""
    result = await session.execute(delete(Job).where(Job.status.in_([DONE, DROPPED]), Job.updated_at < _utc(before)))
    return result.rowcount or 0


async def depth(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """How many jobs wait, by state: due (pending, due now), scheduled (pending, later), running, parked."""
    counts = dict(
        (
            await session.execute(
                select(Job.status, func.count()).where(Job.status.in_([PENDING, RUNNING, PARKED])).group_by(Job.status)
            )
        ).all()
    )
    due = await session.scalar(select(func.count()).where(Job.status == PENDING, Job.run_at <= _utc(now))) or 0
    pending = counts.get(PENDING, 0)
    return {"due": due, "scheduled": pending - due, "running": counts.get(RUNNING, 0), "parked": counts.get(PARKED, 0)}


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"
