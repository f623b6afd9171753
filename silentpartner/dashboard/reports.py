"""The owner's figures, by day or by week in the business's timezone: calls, bookings, how many calls booked,
missed calls and how many of those callers booked by text after the text-back, calls out of hours and how many
were handled, and how fast the agent answered (p50/p95 of the turn latencies).

Calls here are customers' calls on the phone line: the owner's own calls and browser-phone tries are left out.
Speech cost per call is the mean over the calls that recorded one (Realtime calls price their token usage;
offline calls have none): None ("—") when no call in the period did.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select

from silentpartner.business import Business
from silentpartner.dashboard.calls import category
from silentpartner.dashboard.schemas import ReportOut, ReportRow
from silentpartner.runtime import Runtime
from silentpartner.store.models import BookingRecord, CallRecord

Period = Literal["day", "week"]
SPANS: dict[Period, int] = {"day": 14, "week": 8}  # how many days, or weeks, a report covers
RECOVERY_WINDOW = timedelta(days=7)  # a booking by text this soon after a missed call counts as won back
MISSED = ("missed", "cut off")


def percentile(values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def after_hours(business: Business, moment: datetime) -> bool:
    local = moment.astimezone(business.tz)
    if business.is_closed_on(local.date()):
        return True
    minutes = local.hour * 60 + local.minute
    spans = business.hours.for_weekday(local.weekday())
    return not any(span.start_minutes <= minutes < span.end_minutes for span in spans)


def period_start(day: date, period: Period) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day


COUNTS = ("calls", "bookings", "booked_by_calls", "missed", "recovered", "after_hours", "after_hours_handled")


@dataclass
class _Bucket:
    calls: int = 0
    bookings: int = 0
    booked_by_calls: int = 0
    missed: int = 0
    recovered: int = 0
    after_hours: int = 0
    after_hours_handled: int = 0
    latencies: list[int] = field(default_factory=list)
    speech_costs: list[float] = field(default_factory=list)

    def add(self, other: _Bucket) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies.extend(other.latencies)
        self.speech_costs.extend(other.speech_costs)

    def row(self, start: date, label: str) -> ReportRow:
        return ReportRow(
            start=start,
            label=label,
            calls=self.calls,
            bookings=self.bookings,
            booked_by_calls=self.booked_by_calls,
            conversion=self.booked_by_calls / self.calls if self.calls else None,
            missed=self.missed,
            recovered=self.recovered,
            after_hours=self.after_hours,
            after_hours_handled=self.after_hours_handled,
            latency_p50_ms=percentile(self.latencies, 0.50),
            latency_p95_ms=percentile(self.latencies, 0.95),
            speech_cost_per_call=(
                round(sum(self.speech_costs) / len(self.speech_costs), 6) if self.speech_costs else None
            ),
        )


async def report(runtime: Runtime, business: Business, period: Period) -> ReportOut:
    tz = business.tz
    today = runtime.clock.now().astimezone(tz).date()
    first = period_start(today, period) - timedelta(days=(SPANS[period] - 1) * (7 if period == "week" else 1))
    since = datetime.combine(first, time.min, tzinfo=tz)
    async with runtime.db.session() as session:
        calls = list(
            await session.scalars(
                select(CallRecord).where(
                    CallRecord.business == business.slug,
                    CallRecord.channel == "phone",
                    CallRecord.is_owner.is_(False),
                    CallRecord.started_at >= since,
                )
            )
        )
        bookings = list(
            await session.scalars(
                select(BookingRecord).where(BookingRecord.business == business.slug, BookingRecord.created_at >= since)
            )
        )
    return build_report(business, period, first, today, calls, bookings)


def build_report(
    business: Business,
    period: Period,
    first: date,
    today: date,
    calls: Iterable[CallRecord],
    bookings: Iterable[BookingRecord],
) -> ReportOut:
    tz = business.tz
    buckets: dict[date, _Bucket] = defaultdict(_Bucket)
    texted_bookings: dict[str, list[datetime]] = defaultdict(list)
    for booking in bookings:
        buckets[period_start(booking.created_at.astimezone(tz).date(), period)].bookings += 1
        if booking.source == "sms" and booking.attendee_phone:
            texted_bookings[booking.attendee_phone].append(booking.created_at)
    for call in calls:
        bucket = buckets[period_start(call.started_at.astimezone(tz).date(), period)]
        kind = category(call)
        bucket.calls += 1
        bucket.booked_by_calls += kind == "booked"
        bucket.latencies.extend(int(ms) for ms in call.latencies_ms or [] if isinstance(ms, int | float))
        if call.speech_cost_usd is not None:
            bucket.speech_costs.append(call.speech_cost_usd)
        if kind in MISSED:
            bucket.missed += 1
            won_back = texted_bookings.get(call.from_number or "", [])
            bucket.recovered += any(call.started_at < at <= call.started_at + RECOVERY_WINDOW for at in won_back)
        if after_hours(business, call.started_at):
            bucket.after_hours += 1
            bucket.after_hours_handled += kind not in MISSED and kind != "live"
    rows = []
    total = _Bucket()
    start = first
    while start <= today:
        bucket = buckets.get(start, _Bucket())
        total.add(bucket)
        rows.append(bucket.row(start, _label(start, period)))
        start += timedelta(days=7 if period == "week" else 1)
    return ReportOut(period=period, timezone=business.timezone, rows=rows, totals=total.row(first, "Total"))


def _label(start: date, period: Period) -> str:
    return f"wk of {start:%b} {start.day}" if period == "week" else f"{start:%a %b} {start.day}"
