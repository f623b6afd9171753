"""Which call has which recording: filing one on its call record, finding it again for the owner (only
their own business's), and purging the ones past their business's retention.

The call record holds the key only once the file is whole in the store, so a reference never points at
half a file. Purging deletes the file first and the reference after: a purge cut short leaves a
reference to nothing (which `open_for_call` treats as no recording, and the next purge clears), never a
file nobody can find.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from silentpartner.business import Business
from silentpartner.logs import log_event
from silentpartner.recordings.storage import RecordingStore
from silentpartner.store import jobs
from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord

log = logging.getLogger(__name__)

CONTENT_TYPES = {"flac": "audio/flac", "ogg": "audio/ogg"}
DEFAULT_RETENTION_DAYS = 30  # for recordings of a business no longer configured
PURGE_EVERY = timedelta(hours=1)
PURGE_BATCH = 200


def recording_key(business: str, call_sid: str, started_at: datetime, extension: str) -> str:
    month = started_at.astimezone(UTC)
    return f"{business}/{month:%Y}/{month:%m}/{call_sid}.{extension}"


@dataclass(frozen=True)
class Recording:
    """One call's recording, ready to stream (the dashboard renders `<audio>` from it)."""

    call_sid: str
    key: str
    size: int
    store: RecordingStore

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.key.rsplit(".", 1)[1]]

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[1]

    def chunks(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes `start` up to (not including) `end`."""
        return self.store.open(self.key, start, end)


async def attach(db: Database, call_sid: str, key: str, size: int) -> bool:
    """Put a filed recording on its call. False when there is no such call."""
    async with db.session() as session:
        result = await session.execute(
            update(CallRecord).where(CallRecord.sid == call_sid).values(recording_key=key, recording_bytes=size)
        )
    return (result.rowcount or 0) > 0


async def open_for_call(db: Database, store: RecordingStore, *, business: str, call: int | str) -> Recording | None:
    """The recording of `business`'s call `call` (its id or its sid), or None: no such call of this business
    (another business's call is exactly as absent as a missing one), not recorded, or its file is gone."""
    where = CallRecord.id == call if isinstance(call, int) else CallRecord.sid == call
    async with db.session() as session:
        row = (
            await session.execute(
                select(CallRecord.sid, CallRecord.recording_key).where(where, CallRecord.business == business)
            )
        ).first()
    if row is None or row.recording_key is None:
        return None
    size = await store.size(row.recording_key)
    if size is None:
        return None
    return Recording(call_sid=row.sid, key=row.recording_key, size=size, store=store)


async def purge_expired(db: Database, store: RecordingStore, businesses: Iterable[Business], *, now: datetime) -> int:
    """Delete every recording older than its business's `recording_retention_days` (counted from the call's
    start). Returns how many were deleted."""
    retention = {b.slug: b.recording_retention_days for b in businesses}
    expired = [
        (CallRecord.business == slug) & (CallRecord.started_at < now - timedelta(days=days))
        for slug, days in retention.items()
    ]
    expired.append(
        CallRecord.business.not_in(list(retention))
        & (CallRecord.started_at < now - timedelta(days=DEFAULT_RETENTION_DAYS))
    )
    purged = 0
    while True:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(CallRecord.id, CallRecord.business, CallRecord.recording_key)
                    .where(CallRecord.recording_key.is_not(None), or_(*expired))
                    .order_by(CallRecord.id)
                    .limit(PURGE_BATCH)
                )
            ).all()
        for row in rows:
            await store.delete(row.recording_key)
            async with db.session() as session:
                await session.execute(
                    update(CallRecord)
                    .where(CallRecord.id == row.id, CallRecord.recording_key == row.recording_key)
                    .values(recording_key=None, recording_bytes=None)
                )
            purged += 1
        if len(rows) < PURGE_BATCH:
            break
    if purged:
        log_event(log, "recordings.purged", count=purged)
    return purged


def next_purge_at(now: datetime) -> datetime:
    """The next whole hour: every instance computes the same time, so the dedupe key collapses them."""
    step = int(PURGE_EVERY.total_seconds())
    return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=UTC)


async def schedule_purge(db: Database, *, now: datetime, after: datetime | None = None) -> None:
    run_at = next_purge_at(after or now)
    async with db.session() as session:
        await jobs.enqueue(
            session, "recording_purge", {}, run_at=run_at, dedupe_key=f"recording_purge:{run_at.isoformat()}", now=now
        )
