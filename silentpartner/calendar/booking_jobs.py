"""The jobs tied to one booking: its reminders and its review request, put, moved or dropped.

Only rows in `jobs` are written here; messaging runs them when they come due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from silentpartner.business import Business
from silentpartner.calendar.webhook_payloads import BookingChange
from silentpartner.store import jobs
from silentpartner.store.models import BookingRecord

# The statuses of a booking that is still going ahead: it keeps its reminders and review request.
ACTIVE = ("accepted", "pending", "awaiting_payment")


def reminder_key(uid: str, hours: int) -> str:
    return f"reminder:{uid}:{hours}"


async def schedule_reminders(session: AsyncSession, business: Business, row: BookingRecord, now: datetime) -> int:
    """Put (or move) this booking's reminders; ones whose time has passed are not sent late."""
    scheduled = 0
    for hours in business.reminder_hours:
        run_at = row.start_at - timedelta(hours=hours)
        key = reminder_key(row.uid, hours)
        if run_at <= now:
            await jobs.drop(session, key, now=now)
            continue
        payload = {
            "business": business.slug,
            "booking_uid": row.uid,
            "hours": hours,
            "start": row.start_at.isoformat(),
        }
        job = await jobs.upsert(
            session, "reminder", payload, run_at=run_at, dedupe_key=key, business=business.slug, now=now
        )
        scheduled += job is not None
    return scheduled


async def drop_booking_jobs(session: AsyncSession, uid: str, now: datetime) -> int:
    """A booking that is gone or moved: no reminder or review request for it any more."""
    dropped = await jobs.drop_prefix(session, f"reminder:{uid}:", now=now)
    dropped += await jobs.drop(session, f"review_request:{uid}", now=now)
    return dropped


async def schedule_review(session: AsyncSession, business: Business, row: BookingRecord, now: datetime) -> None:
    """The embedded calendar has no MEETING_ENDED: ask for a review `review_delay_hours` after the visit's end."""
    run_at = max(row.end_at, now) + timedelta(hours=business.review_delay_hours)
    key = f"review_request:{row.uid}"
    payload = {"business": business.slug, "booking_uid": row.uid, "phone": row.attendee_phone}
    if not await jobs.reschedule(session, key, run_at=run_at, payload=payload, now=now):
        await jobs.enqueue(
            session, "review_request", payload, run_at=run_at, business=business.slug, dedupe_key=key, now=now
        )


async def schedule_review_after_meeting(
    session: AsyncSession, business: Business, change: BookingChange, row: BookingRecord | None, now: datetime
) -> None:
    """MEETING_ENDED from Cal.com: ask for a review `review_delay_hours` after the visit (not for a dead booking)."""
    if row is not None and row.status not in ACTIVE:
        return
    if change.status in ("cancelled", "rejected"):
        return
    ended = change.end or (row.end_at if row is not None else now)
    run_at = max(ended, now) + timedelta(hours=business.review_delay_hours)
    await jobs.enqueue(
        session,
        "review_request",
        {"business": business.slug, "booking_uid": change.uid, "phone": change.phone},
        run_at=run_at,
        business=business.slug,
        dedupe_key=f"review_request:{change.uid}",
        now=now,
    )
