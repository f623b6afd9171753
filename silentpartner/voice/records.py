"""The call record: created by the voice webhook, written by the live call as it goes, settled at the end.

Settling is where a call that ended with nothing booked and no message taken is handed to messaging:
a text-back to the caller and a note to the owner with what the caller said. Several things can notice
the end (Twilio's call status callback, the stream status callback, the live call itself, the sweep of
calls whose process died), so each hand-over is guarded by the job's dedupe key (and the text-back also
by the record's `textback_queued` flag). While a live call still holds the record (it has a heartbeat
and no end reason yet), only that call or the sweep settles it: a status callback that overtakes the
call's last turn must not report a booking being made as a call that came to nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


def nothing_came_of_it(record: CallRecord) -> bool:
    """Nothing booked, changed or passed on: the caller is owed a text-back and the owner a note."""
    return not (record.outcome in SETTLED_OUTCOMES or record.booking_uid or record.message_for_owner)


async def settle(db: Database, sid: str, *, now: datetime, reason: str) -> bool:
    """Hand the call to messaging if it came to nothing. True when a text-back was queued."""
    async with db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
        if record is None:
            return False
        queued = await settle_record(session, record, now=now)
    if queued:
        log_event(log, "call.settled", sid=sid, reason=reason, queued=queued)
    return "textback" in queued


async def settle_record(session: AsyncSession, record: CallRecord, *, now: datetime) -> list[str]:
    """In the caller's transaction: queue the text-back and the owner's note, each at most once.
    Returns the kinds queued now. A browser-phone call is the owner trying their receptionist: nobody to text
    back, and nothing to tell the owner that they did not just hear."""
    if record.is_owner or record.channel == "browser" or not nothing_came_of_it(record):
        return []
    if record.heartbeat_at is not None and record.end_reason is None:
        return []  # a live call holds it; it settles itself, or the sweep does if its process died
    queued: list[str] = []
    if record.from_number and not record.textback_queued:
        textback = await jobs.enqueue(
            session,
            "textback",
            {"call_sid": record.sid},
            run_at=now,
            business=record.business,
            dedupe_key=f"textback:{record.sid}",
            now=now,
        )
        record.textback_queued = True
        if textback is not None:
            queued.append("textback")
    summary = await jobs.enqueue(
        session,
        "call_summary",
        {"call_sid": record.sid},
        run_at=now,
        business=record.business,
        dedupe_key=f"call_summary:{record.sid}",
        now=now,
    )
    if summary is not None:
        queued.append("call_summary")
    return queued
