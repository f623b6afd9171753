"""Appointments: the day's and the coming days' from the bookings mirror, and the owner's changes to them.

A cancel or a move goes through the business's calendar port with the owner's assistant's own tools
(`OwnerTools`), and the customer gets the texts any change sends (`change_texts.customer_texts`), queued as
`sms` jobs like a call's texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from silentpartner.business import Business
from silentpartner.calendar.port import CalendarError, CalendarPort, InvalidRequest, NotFound, OutsideBookingWindow
from silentpartner.conversation.change_texts import Change, customer_texts
from silentpartner.conversation.owner_tools import OwnerTools
from silentpartner.dashboard.schemas import BookingOut
from silentpartner.messaging.outbox import queue_texts
from silentpartner.runtime import Runtime
from silentpartner.sms_text import service_name
from silentpartner.store.models import BookingRecord, CallRecord

ACTIVE = ("accepted", "pending", "awaiting_payment")
SOURCE_LABELS = {
    "call": "phone call",
    "sms": "SMS",
    "calcom": "Cal.com",
    "webhook": "Cal.com",
    "cli": "by hand",
    "simulate": "simulator",
}
UPCOMING_DAYS = 14


def local_day_bounds(business: Business, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=business.tz)
    return start, start + timedelta(days=1)


def booking_out(business: Business, row: BookingRecord, call_id: int | None = None) -> BookingOut:
    tz = business.tz
    return BookingOut(
        uid=row.uid,
        service=row.service,
        service_name=service_name(business, row.service),
        start=row.start_at.astimezone(tz),
        end=row.end_at.astimezone(tz),
        customer=row.attendee_name,
        phone=row.attendee_phone,
        address=row.address,
        problem=row.notes,
        team_member=row.team_member,
        status=row.status,
        source=row.source,
        source_label=SOURCE_LABELS.get(row.source, row.source),
        call_id=call_id,
    )


async def upcoming(runtime: Runtime, business: Business, *, days: int = UPCOMING_DAYS) -> list[BookingOut]:
    """Active bookings from the start of today (business time) for `days` days, earliest first."""
    today = runtime.clock.now().astimezone(business.tz).date()
    start, _ = local_day_bounds(business, today)
    async with runtime.db.session() as session:
        rows = list(
            await session.scalars(
                select(BookingRecord)
                .where(
                    BookingRecord.business == business.slug,
                    BookingRecord.status.in_(ACTIVE),
                    BookingRecord.start_at >= start,
                    BookingRecord.start_at < start + timedelta(days=days),
                )
                .order_by(BookingRecord.start_at, BookingRecord.team_member)
            )
        )
        calls = await _call_ids(session, business, [r.call_sid for r in rows if r.call_sid])
    return [booking_out(business, row, calls.get(row.call_sid or "")) for row in rows]


async def _call_ids(session: Any, business: Business, sids: list[str]) -> dict[str, int]:
    if not sids:
        return {}
    found = await session.execute(
        select(CallRecord.sid, CallRecord.id).where(CallRecord.business == business.slug, CallRecord.sid.in_(sids))
    )
    return {sid: call_id for sid, call_id in found.all()}


async def find(runtime: Runtime, business: Business, uid: str) -> BookingRecord | None:
    """This business's booking `uid` (another business's is as good as missing)."""
    if not uid or len(uid) > 128:
        return None
    async with runtime.db.session() as session:
        return await session.scalar(
            select(BookingRecord).where(BookingRecord.uid == uid, BookingRecord.business == business.slug)
        )


@dataclass(frozen=True)
class ChangeResult:
    done: bool
    notice: str  # the key of the dashboard's notice about it (pages.NOTICES)
    message: str  # for the owner
    booking: dict[str, Any] | None = None
    alternatives: list[datetime] | None = None


GONE = ChangeResult(False, "gone", "That booking is not on the calendar any more.")
CALENDAR_DOWN = ChangeResult(
    False, "calendar-down", "The calendar could not be reached; nothing was changed. Try again in a minute."
)


def _calendar(runtime: Runtime, business: Business) -> CalendarPort:
    calendar = runtime.calendars.get(business.slug)
    if calendar is None:
        raise CalendarError(f"no calendar for {business.slug}")
    return calendar


async def cancel(runtime: Runtime, business: Business, uid: str) -> ChangeResult:
    tools = OwnerTools(_calendar(runtime, business), business, activity=None)
    try:
        result = await tools.owner_cancel(uid)
    except NotFound:
        return GONE
    except CalendarError:
        return CALENDAR_DOWN
    if "booking" not in result:  # refused: it is already cancelled
        return GONE
    booking = result["booking"]
    await _text_customer(runtime, business, "cancel", booking)
    return ChangeResult(True, "cancelled", "Cancelled. The customer has been texted.", booking)


async def free_times(runtime: Runtime, business: Business, row: BookingRecord, day: date) -> list[datetime]:
    """Starts on `day` (business time) the booking could move to."""
    start, end = local_day_bounds(business, day)
    now = runtime.clock.now()
    slots = await _calendar(runtime, business).find_slots(row.service, max(start, now), end, reschedule_uid=row.uid)
    return [slot.start.astimezone(business.tz) for slot in slots]


async def reschedule(runtime: Runtime, business: Business, row: BookingRecord, start: datetime) -> ChangeResult:
    tools = OwnerTools(_calendar(runtime, business), business, activity=None)
    slot = {"start": start.isoformat(), "service": row.service}
    try:
        result = await tools.owner_reschedule(row.uid, slot)
    except NotFound:
        return GONE
    except (OutsideBookingWindow, InvalidRequest):
        return ChangeResult(
            False, "not-bookable", "That time can't be booked (too soon or too far ahead); pick another."
        )
    except CalendarError:
        return CALENDAR_DOWN
    if result.get("unavailable"):
        alternatives = [datetime.fromisoformat(s["start"]).astimezone(business.tz) for s in result["alternatives"]]
        return ChangeResult(
            False,
            "taken",
            "That time isn't free (taken, or outside the hours); pick another.",
            alternatives=alternatives,
        )
    if "booking" not in result:  # refused: it was cancelled meanwhile
        return GONE
    booking = result["booking"]
    await _text_customer(runtime, business, "reschedule", booking)
    return ChangeResult(True, "moved", "Moved. The customer has been texted.", booking)


async def _text_customer(runtime: Runtime, business: Business, change: Change, booking: dict[str, Any]) -> None:
    texts = customer_texts(business, change, booking, to=booking.get("phone"), owner_name=business.owner_name)
    # One text per change: a double submit of the same cancel, or of the same move, texts once.
    await queue_texts(runtime.db, business, texts, now=runtime.clock.now(), origin=f"dashboard:{booking['start']}")
