"""Closing out calls whose process died.

A live call lives in the process that holds its websocket, and its recorder writes a heartbeat every few
seconds. When that process is killed mid-call nothing ends the call: no end time, no text-back, no note
to the owner. The sweep finds such calls (a heartbeat older than `call_stale_after_seconds`) and closes
each out as of the last moment it was known alive, then hands it to messaging like any call that came to
nothing (`records.settle_record`). A call answered by the voice webhook whose stream never came is
Twilio's to report (the stream status callback settles it); only long after that could have happened,
`NEVER_BRIDGED_AFTER`, does the sweep close it as a last resort. It must not sooner: the stream can wait
on the speech models loading.

Every instance sweeps at start and then every `call_sweep_every_seconds`, and several may share one
database, so each call is claimed exactly once: a conditional UPDATE (only a call nobody has closed yet
is taken) whose row count says who won, inside the transaction that also queues the jobs. On PostgreSQL
the candidates are read `FOR UPDATE SKIP LOCKED`, so sweepers take different calls rather than queue on
the same ones; SQLite has one writer at a time (the session begins IMMEDIATE). An instance never sweeps
the calls it holds itself: while it runs, its calls are alive.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from silentpartner import metrics
from silentpartner.logs import log_event
from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice import records

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)

CUT_OFF = "cut off"  # the end reason of a swept call
LIVE_STATUSES = ("ringing", "in-progress")
SWEPT_CHANNELS = ("phone", "browser")  # `simulate` writes calls too, but no one is on the line
NEVER_BRIDGED_AFTER = timedelta(minutes=10)
BATCH = 50


def _dead(stale_before: datetime, never_bridged_before: datetime, instance_id: str) -> ColumnElement[bool]:
    return and_(
        CallRecord.end_reason.is_(None),
        CallRecord.channel.in_(SWEPT_CHANNELS),
        or_(CallRecord.instance_id.is_(None), CallRecord.instance_id != instance_id),
        or_(
            CallRecord.heartbeat_at < stale_before,
            # Answered by the voice webhook, but the media stream never came and nobody reported it.
            and_(
                CallRecord.heartbeat_at.is_(None),
                CallRecord.status == "ringing",
                CallRecord.started_at < never_bridged_before,
            ),
        ),
    )


async def _close_batch(session: AsyncSession, *, now: datetime, stale_before: datetime, instance_id: str) -> list[str]:
    dead = _dead(stale_before, now - NEVER_BRIDGED_AFTER, instance_id)
    query = select(CallRecord.id).where(dead).order_by(CallRecord.id).limit(BATCH)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = list((await session.scalars(query)).all())
    closed = []
    for call_id in candidates:
        claimed = await session.execute(
            update(CallRecord).where(CallRecord.id == call_id, dead).values(end_reason=CUT_OFF)
        )
        if (claimed.rowcount or 0) != 1:
            continue  # another sweeper closed it first
        record = await session.get(CallRecord, call_id, populate_existing=True)
        assert record is not None
        last_alive = record.heartbeat_at or record.started_at
        record.ended_at = last_alive
        record.duration_seconds = max(0, int((last_alive - record.started_at).total_seconds()))
        if record.status in LIVE_STATUSES:
            record.status = "cut-off"
        queued = await records.settle_record(session, record, now=now)
        metrics.current().call_cut_off(record.business)
        log_event(
            log,
            "call.swept",
            logging.WARNING,
            sid=record.sid,
            business=record.business,
            held_by=record.instance_id,
            last_alive=last_alive.isoformat(),
            queued=queued,
        )
        closed.append(record.sid)
    return closed


async def sweep_once(db: Database, *, now: datetime, stale_after: timedelta, instance_id: str) -> list[str]:
    """Close out every call whose process died; returns the sids this sweeper closed (and no other did)."""
    stale_before = now - stale_after
    closed: list[str] = []
    while True:
        async with db.session() as session:
            batch = await _close_batch(session, now=now, stale_before=stale_before, instance_id=instance_id)
        closed.extend(batch)
        if len(batch) < BATCH:
            return closed


class CallSweeper:
    """The app component: one sweep at start (calls cut off while no instance ran), then one every
    `call_sweep_every_seconds`. Off with RUN_JOBS=false, like the job worker."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.swept = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, runtime: Runtime) -> None:
        self.runtime = runtime
        if not runtime.settings.run_jobs:
            return
        self._stop = asyncio.Event()
        await self.sweep()
        self._task = asyncio.create_task(self._run(), name=f"call-sweeper:{runtime.instance_id}")

    async def sweep(self) -> list[str]:
        """One sweep; a failure is logged and the next round tries again."""
        runtime = self.runtime
        assert runtime is not None, "start the sweeper first"
        try:
            closed = await sweep_once(
                runtime.db,
                now=runtime.clock.now(),
                stale_after=timedelta(seconds=runtime.settings.call_stale_after_seconds),
                instance_id=runtime.instance_id,
            )
        except Exception:
            log.exception("call.sweep_failed")
            return []
        self.swept += len(closed)
        return closed

    async def _run(self) -> None:
        assert self.runtime is not None
        every = self.runtime.settings.call_sweep_every_seconds
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=every)
            except TimeoutError:
                await self.sweep()

    async def stop(self) -> None:
        # Never cancelled mid-sweep: a cancelled SQLite statement can leave its connection holding the lock.
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
