"""How times, dates and hours are said out loud and written in texts (business timezone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

# A week's opening hours as plain numbers, Monday first: each day's spans as (start, end) minutes after
# midnight. Plain, so this module needs nothing from `business` (which reads its hours through here).
WeekSpans = Sequence[Sequence[tuple[int, int]]]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def clock(minutes_or_dt: int | datetime) -> str:
    """'2 PM', '2:30 PM', 'noon'."""
    if isinstance(minutes_or_dt, datetime):
        minutes = minutes_or_dt.hour * 60 + minutes_or_dt.minute
    else:
        minutes = minutes_or_dt
    hour, minute = divmod(minutes % (24 * 60), 60)
    if hour == 12 and minute == 0:
        return "noon"
    if hour == 0 and minute == 0:
        return "midnight"
    suffix = "AM" if hour < 12 else "PM"
    h12 = hour % 12 or 12
    return f"{h12} {suffix}" if minute == 0 else f"{h12}:{minute:02d} {suffix}"


def spoken_day(day: date, today: date) -> str:
    """'today', 'tomorrow', 'Wednesday the 11th', or 'Wednesday, December the 2nd' further out."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    name = DAY_NAMES[day.weekday()]
    if 0 < delta < 7:
        return f"{name} the {ordinal(day.day)}"
    return f"{name}, {day:%B} the {ordinal(day.day)}"


def spoken_slot(start: datetime, today: date) -> str:
    """'tomorrow at 2 PM', 'Wednesday the 11th at 9:30 AM' (start is already in the business zone)."""
    return f"{spoken_day(start.date(), today)} at {clock(start)}"


def text_slot(start: datetime) -> str:
    """For SMS: 'Wed Feb 11 at 2:00 PM'."""
    h12 = start.hour % 12 or 12
    return f"{start:%a %b} {start.day} at {h12}:{start.minute:02d} {'AM' if start.hour < 12 else 'PM'}"


def describe_weekly_hours(week: WeekSpans) -> str:
    groups: list[tuple[list[int], str]] = []
    for weekday in range(7):
        spans = week[weekday]
        label = " and ".join(f"{clock(start)} to {clock(end)}" for start, end in spans) or "closed"
        if groups and groups[-1][1] == label and groups[-1][0][-1] == weekday - 1:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], label))
    parts = []
    for days, label in groups:
        name = DAY_NAMES[days[0]] if len(days) == 1 else f"{DAY_NAMES[days[0]]} to {DAY_NAMES[days[-1]]}"
        parts.append(f"closed {name}" if label == "closed" else f"{name} {label}")
    return ", ".join(parts)
