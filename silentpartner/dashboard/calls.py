"""Calls: what each came to (a category the list filters by), its summary, and its transcript with the time the
agent took to answer each turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from silentpartner.business import Business
from silentpartner.dashboard.bookings import booking_out
from silentpartner.dashboard.schemas import CallCategory, CallDetailOut, CallOut, TranscriptTurn
from silentpartner.messaging.call_summary import post_call_summary
from silentpartner.runtime import Runtime
from silentpartner.store.models import BookingRecord, CallRecord
from silentpartner.voice.records import nothing_came_of_it
from silentpartner.voice.sweep import CUT_OFF

LISTED_CHANNELS = ("phone", "browser")  # a text thread or a terminal simulation is not a call on the line
LIST_LIMIT = 100
SCAN_LIMIT = 1000  # calls read to fill a filtered list
LIVE_STATUSES = ("ringing", "in-progress")


def category(record: CallRecord) -> CallCategory:
    if record.is_owner:
        return "owner"
    if record.outcome == "booked":
        return "booked"
    if record.outcome in ("rescheduled", "cancelled"):
        return "changed"
    if record.outcome == "transferred" or record.status == "transferred":
        return "transferred"
    if record.outcome == "message" or record.message_for_owner:
        return "message"
    if record.end_reason == CUT_OFF and nothing_came_of_it(record):
        return "cut off"
    if record.outcome == "info":
        return "answered"
    if record.ended_at is None and record.end_reason is None and record.status in LIVE_STATUSES:
        return "live"
    return "missed"


def _duration(record: CallRecord) -> int | None:
    if record.duration_seconds is not None:
        return record.duration_seconds
    if record.ended_at is not None:
        return max(0, int((record.ended_at - record.started_at).total_seconds()))
    return None


def call_out(business: Business, record: CallRecord, booking: BookingRecord | None) -> CallOut:
    details = record.details or {}
    return CallOut(
        id=record.id,
        sid=record.sid,
        started_at=record.started_at.astimezone(business.tz),
        caller_name=details.get("name"),
        caller_number=details.get("phone") or record.from_number,
        forwarded_from=record.forwarded_from,
        channel=record.channel,
        category=category(record),
        outcome=record.outcome,
        status=record.status,
        duration_seconds=_duration(record),
        summary=post_call_summary(business, record, booking),
        booking_uid=record.booking_uid,
        speech_engine=record.speech_engine,
        speech_cost_usd=record.speech_cost_usd,
    )


async def recent(runtime: Runtime, business: Business, *, only: CallCategory | None = None) -> list[CallOut]:
    """The latest calls, newest first; with `only`, those of that category."""
    async with runtime.db.session() as session:
        rows = list(
            await session.scalars(
                select(CallRecord)
                .where(CallRecord.business == business.slug, CallRecord.channel.in_(LISTED_CHANNELS))
                .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
                .limit(SCAN_LIMIT if only else LIST_LIMIT)
            )
        )
        rows = [r for r in rows if only is None or category(r) == only][:LIST_LIMIT]
        bookings = await _bookings(session, business, [r.booking_uid for r in rows if r.booking_uid])
    return [call_out(business, r, bookings.get(r.booking_uid or "")) for r in rows]


async def _bookings(session: Any, business: Business, uids: list[str]) -> dict[str, BookingRecord]:
    if not uids:
        return {}
    rows = await session.scalars(
        select(BookingRecord).where(BookingRecord.business == business.slug, BookingRecord.uid.in_(uids))
    )
    return {row.uid: row for row in rows}


async def detail(runtime: Runtime, business: Business, call_id: int) -> CallDetailOut | None:
    """This business's call `call_id`; None for another business's (or no) call."""
    async with runtime.db.session() as session:
        record = await session.scalar(
            select(CallRecord).where(
                CallRecord.id == call_id,
                CallRecord.business == business.slug,
                CallRecord.channel.in_(LISTED_CHANNELS),
            )
        )
        if record is None:
            return None
        bookings = await _bookings(session, business, [record.booking_uid] if record.booking_uid else [])
    booking = bookings.get(record.booking_uid or "")
    summary = call_out(business, record, booking)
    latencies = [int(ms) for ms in (record.latencies_ms or []) if isinstance(ms, int | float)]
    return CallDetailOut(
        **summary.model_dump(),
        transcript=transcript_turns(business, record.transcript or [], latencies),
        latencies_ms=latencies,
        booking=booking_out(business, booking, record.id) if booking else None,
        message_for_owner=record.message_for_owner,
        end_reason=record.end_reason,
        transfer_outcome=record.transfer_outcome,
        ended_at=record.ended_at.astimezone(business.tz) if record.ended_at else None,
        recording_url=f"/api/calls/{record.id}/recording" if record.recording_key else None,
    )


def transcript_turns(business: Business, transcript: list[Any], latencies: list[int]) -> list[TranscriptTurn]:
    """The stored transcript as turns. A latency is measured once per caller turn, at the first audio of the reply,
    so the n-th latency goes to the first agent line after the n-th stretch of caller lines."""
    turns: list[TranscriptTurn] = []
    pending = iter(latencies)
    caller_spoke = False
    for entry in transcript:
        if not isinstance(entry, dict) or entry.get("role") not in ("caller", "agent"):
            continue
        role = entry["role"]
        latency = None
        if role == "caller":
            caller_spoke = True
        elif caller_spoke:
            latency = next(pending, None)
            caller_spoke = False
        turns.append(
            TranscriptTurn(
                role=role,
                text=str(entry.get("text", "")),
                at=_when(entry.get("at"), business),
                offset_seconds=entry.get("t") if isinstance(entry.get("t"), int | float) else None,
                latency_ms=latency,
                interrupted=bool(entry.get("interrupted")),
                heard=entry.get("heard") if isinstance(entry.get("heard"), str) else None,
            )
        )
    return turns


def _when(value: Any, business: Business) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(business.tz) if moment.tzinfo else None
