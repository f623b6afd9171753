"""What one stretch of speech (between corrections) asks for: as soon as possible, "in two hours", a day, a time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from silentpartner.conversation.when.calendar_words import month_day_label
from silentpartner.conversation.when.clock_times import read_times
from silentpartner.conversation.when.days import monday_of, read_days
from silentpartner.conversation.when.spec import Spec
from silentpartner.conversation.when.windows import MORNING

_ASAP = re.compile(
    r"\b(as soon as (?:possible|you can|we can|you're able|can be|you guys can)|asap|a s a p|earliest|soonest"
    r"|first available|next available|right away|right now|immediately|straight away|urgently|quickly as possible"
    r"|first opening|earliest opening|first thing)\b"
)

_FLEXIBLE_TODAY = re.compile(r"\btoday if (?:you|possible|we|at all|that's possible|it's possible)\b|\bideally today\b")

_RELATIVE = re.compile(
    r"\bin (?:(an?|one|\d{1,4}|a couple of|a couple|a few|half an?)\s+)(hour|hours|hr|hrs|minute|minutes|min|mins"
    r"|day|days|week|weeks)(?: and a half)?\b"
)


def read_segment(segment: str, today: date, now: datetime) -> Spec:
    spec = Spec()
    if _ASAP.search(segment):
        spec.asap = True
        if re.search(r"\bfirst thing\b", segment):
            spec.part = "morning"
            if now.hour >= MORNING[0] // 60:
                # "first thing in the morning" said once the morning has begun means tomorrow's
                spec.day = today + timedelta(days=1)
    if _FLEXIBLE_TODAY.search(segment):
        spec.asap = True
        spec.flexible_today = True
    if re.search(r"\bany ?time\b|\ball day\b|\bwhole day\b", segment):
        spec.any_time = True
    relative = _RELATIVE.search(segment)
    if relative:
        _read_relative(relative, spec, today, now)
        if spec.at:
            return spec
    read_days(segment, spec, today, now)
    read_times(segment, spec, now)
    return spec


# How far ahead "in N units" may reach; beyond this it is not a booking request.
_RELATIVE_LIMITS = {"hour": 72, "minute": 600, "day": 366, "week": 52}


def _read_relative(match: re.Match[str], spec: Spec, today: date, now: datetime) -> None:
    """ "in two hours" is elapsed time (an instant, exact); "in 3 days" and "in two weeks" are calendar days."""
    amount_word, unit_word = match.groups()
    unit = "hour" if unit_word.startswith(("hour", "hr")) else "minute" if unit_word.startswith("min") else unit_word
    unit = unit.rstrip("s")
    named = {"a": 1, "an": 1, "one": 1, "a couple of": 2, "a couple": 2, "a few": 3, "half an": 0.5, "half a": 0.5}
    amount = float(named[amount_word]) if amount_word in named else float(int(amount_word))
    if match.group(0).endswith("and a half"):
        amount += 0.5
    if amount > _RELATIVE_LIMITS[unit] or (unit == "minute" and amount < 15):
        return  # "in a minute" is a pause, "in 900 days" is not a booking
    if unit in ("hour", "minute"):
        moment = now.astimezone(UTC) + timedelta(hours=amount if unit == "hour" else amount / 60)
        spec.at = _round_up_five(moment).astimezone(now.tzinfo)
    elif unit == "day":
        spec.day = today + timedelta(days=round(amount))
    else:
        monday = monday_of(today + timedelta(days=round(amount * 7)))
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = f"the week of {month_day_label(monday, today)}"


def _round_up_five(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta()
    )
    return moment + timedelta(minutes=(-moment.minute) % 5)
