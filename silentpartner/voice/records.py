"""The call record: created by the voice webhook, written by the live call as it goes, settled at the end.

Settling is where a call that ended with nothing booked and no message taken is handed to messaging
for a text-back. Several things can notice the end (Twilio's call status callback, the stream status
callback, the live call itself), so the hand-over is guarded twice: the record's `textback_queued`
flag and the job's dedupe key.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord

log = logging.getLogger(__name__)

# Outcomes that leave the caller with something: no text-back for these.
SETTLED_OUTCOMES = frozenset({"booked", "rescheduled", "cancelled", "message", "transferred"})
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


async def open_call(
    db: Database,
    *,
    sid: str,
    business: str,
    from_number: str | None,
    to_number: str | None,
    forwarded_from: str | None,
    is_owner: bool,
    channel: str,
    now: datetime,
) -> CallRecord:
    """Create the record (or return it when Twilio retries the webhook for the same call)."""
    async with db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
        if record is None:
            record = CallRecord(
                sid=sid,
                business=business,
                from_number=from_number,
                to_number=to_number,
                forwarded_from=forwarded_from,
                is_owner=is_owner,
                channel=channel,
                status="ringing",
                transcript=[],
                latencies_ms=[],
                started_at=now,
            )
            session.add(record)
    return record


async def load_call(db: Database, sid: str) -> CallRecord | None:
    async with db.session() as session:
        return await session.scalar(select(CallRecord).where(CallRecord.sid == sid))


async def update_call(db: Database, sid: str, **values: Any) -> None:
    async with db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
        if record is None:
            return
        for key, value in values.items():
            setattr(record, key, value)


async def settle(db: Database, sid: str, *, now: datetime, reason: str) -> bool:
    """Queue a text-back once when the call ended with nothing for the caller. True when one was queued."""
    async with db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
        if record is None or record.textback_queued or record.is_owner:
            return False
        if record.outcome in SETTLED_OUTCOMES or record.booking_uid or record.message_for_owner:
            return False
        if not record.from_number:
            return False
        job = await jobs.enqueue(
            session,
            "textback",
            {"call_sid": sid},
            run_at=now,
            business=record.business,
            dedupe_key=f"textback:{sid}",
            now=now,
        )
        record.textback_queued = True
    log_event(log, "call.textback_queued", sid=sid, reason=reason, queued=job is not None)
    return job is not None
