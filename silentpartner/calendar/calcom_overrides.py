"""Time off as Cal.com date overrides: pure math on a schedule, no HTTP (`calcom.CalcomCalendar` sends it).

How Cal.com reads a schedule (schedules API 2024-06-11 and its slot code, packages/lib/date-ranges.ts):
- weekly availability `{days, startTime, endTime}` and date overrides `{date, startTime, endTime}` are wall-clock
  "HH:MM" in the schedule's `timeZone`;
- the overrides on a date replace that date's weekly availability entirely, and zero-length ranges are dropped
  after that, so a lone "00:00"-"00:00" override is a whole day off (what Cal.com's own "mark unavailable all
  day" saves);
- "HH" is 00-23, so an end of "23:59" stands for midnight (Cal.com adds the minute back);
- a range that ends before it starts is no availability at all;
- PATCH with `overrides` replaces every override of the schedule, so whoever changes one date sends all the
  others back as they were.

Blocking takes a span out of each date it touches (that date's override if it has one, else its weekly hours);
reopening puts the span back, never beyond the weekly hours, and drops the override once the date is back to
its weekly hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from silentpartner.calendar.calcom_json import whole_number

Window = tuple[int, int]  # [start, end) in minutes after local midnight; end at most DAY
Windows = tuple[Window, ...]

DAY = 24 * 60
END_OF_DAY = "23:59"  # how Cal.com writes midnight as an end
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ScheduleUnreadable(ValueError):
    """Cal.com answered with a schedule this module cannot read safely (so it must not be written back)."""


# -- windows ----------------------------------------------------------------------------------------


def merge(windows: Iterable[Window]) -> Windows:
    """Sorted, with overlapping and touching windows joined and empty ones dropped."""
    out: list[Window] = []
    for start, end in sorted(w for w in windows if w[0] < w[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def subtract(windows: Windows, span: Window) -> Windows:
    out: list[Window] = []
    for start, end in windows:
        out.append((start, min(end, span[0])))
        out.append((max(start, span[1]), end))
    return merge(out)


def intersect(windows: Windows, span: Window) -> Windows:
    return merge((max(start, span[0]), min(end, span[1])) for start, end in windows)


def parse_hhmm(text: Any, *, end: bool = False) -> int:
    if not isinstance(text, str) or not _HHMM.fullmatch(text):
        raise ScheduleUnreadable(f"not an HH:MM time: {text!r}")
    if end and text == END_OF_DAY:
        return DAY
    return int(text[:2]) * 60 + int(text[3:])


def format_hhmm(minute: int) -> str:
    if minute >= DAY:
        return END_OF_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _window(row: Mapping[str, Any]) -> Window:
    return parse_hhmm(row.get("startTime")), parse_hhmm(row.get("endTime"), end=True)


# -- the schedule -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """One Cal.com schedule as read. `overrides` keeps each date's entries exactly as Cal.com sent them, so
    the dates time off does not touch are written back untouched."""

    id: int
    owner_id: int | None
    tz: ZoneInfo
    weekly: Mapping[int, Windows]  # weekday (0 = Monday) -> windows
    overrides: Mapping[date, tuple[dict[str, str], ...]]

    @classmethod
    def from_json(cls, data: Any) -> Schedule:
        """A `ScheduleOutput_2024_06_11`; raises ScheduleUnreadable on anything it cannot vouch for."""
        if not isinstance(data, dict):
            raise ScheduleUnreadable("the schedule is not an object")
        schedule_id, owner_id = data.get("id"), data.get("ownerId")
        if not whole_number(schedule_id):
            raise ScheduleUnreadable(f"schedule id {schedule_id!r}")
        tz_name = data.get("timeZone")
        try:
            tz = ZoneInfo(tz_name) if isinstance(tz_name, str) and tz_name else None
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        if tz is None:
            raise ScheduleUnreadable(f"schedule time zone {tz_name!r}")
        weekly: dict[int, list[Window]] = {day: [] for day in range(7)}
        for row in _rows(data.get("availability"), "availability"):
            days = row.get("days")
            if not isinstance(days, list) or any(d not in WEEKDAYS for d in days):
                raise ScheduleUnreadable(f"availability days {days!r}")
            window = _window(row)
            for name in days:
                weekly[WEEKDAYS.index(name)].append(window)
        overrides: dict[date, list[dict[str, str]]] = {}
        for row in _rows(data.get("overrides"), "overrides"):
            text = row.get("date")
            try:
                day = date.fromisoformat(text) if isinstance(text, str) and _DATE.fullmatch(text) else None
            except ValueError:
                day = None
            if day is None:
                raise ScheduleUnreadable(f"override date {text!r}")
            _window(row)
            overrides.setdefault(day, []).append(
                {"date": text, "startTime": row["startTime"], "endTime": row["endTime"]}
            )
        return cls(
            id=int(schedule_id),
            owner_id=int(owner_id) if whole_number(owner_id) else None,
            tz=tz,
            weekly={day: merge(windows) for day, windows in weekly.items()},
            overrides={day: tuple(rows) for day, rows in overrides.items()},
        )

    def windows_on(self, day: date) -> Windows:
        """What Cal.com offers on `day`: its overrides if it has any, else its weekday's hours."""
        if day in self.overrides:
            return merge(_window(row) for row in self.overrides[day])
        return self.weekly[day.weekday()]


def _rows(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ScheduleUnreadable(f"{name} is not a list of objects")
    return value


def override_rows(day: date, windows: Windows) -> tuple[dict[str, str], ...]:
    """The override entries that make `windows` the whole of `day` ("00:00"-"00:00" when it is empty)."""
    text = day.isoformat()
    if not windows:
        return ({"date": text, "startTime": "00:00", "endTime": "00:00"},)
    return tuple({"date": text, "startTime": format_hhmm(a), "endTime": format_hhmm(b)} for a, b in windows)


# -- spans ------------------------------------------------------------------------------------------


def day_spans(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, Window]]:
    """[start, end) as wall-clock spans in `tz`, one per local date it touches.

    Cal.com's override times are wall-clock, so a span is cut by the local clock: on a DST day 00:00-12:00 is
    one span although it lasts 11 or 13 hours. Seconds widen it to whole minutes."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("timezone-aware datetimes only")
    first = _floor_minute(start.astimezone(tz))
    last = _ceil_minute(end.astimezone(tz))
    out: list[tuple[date, Window]] = []
    day = first.date()
    while day <= last.date():
        span_start = first.hour * 60 + first.minute if day == first.date() else 0
        span_end = last.hour * 60 + last.minute if day == last.date() else DAY
        if span_start < span_end:
            out.append((day, (span_start, span_end)))
        day += timedelta(days=1)
    return out


def _floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment: datetime) -> datetime:
    floored = _floor_minute(moment)
    return floored if floored == moment else floored + timedelta(minutes=1)


# -- changes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """The schedule's whole override list after a change, and the dates whose overrides changed."""

    overrides: list[dict[str, str]]
    days: tuple[date, ...]


def block(schedule: Schedule, start: datetime, end: datetime) -> Change:
    """Take [start, end) off. A date with nothing open in the span (a closed day) is left as it is."""
    changed: dict[date, Windows] = {}
    for day, span in day_spans(start, end, schedule.tz):
        before = schedule.windows_on(day)
        after = subtract(before, span)
        if after != before:
            changed[day] = after
    return _change(schedule, changed)


def reopen(schedule: Schedule, start: datetime, end: datetime) -> Change:
    """Give [start, end) back on the dates that have an override, up to their weekly hours."""
    changed: dict[date, Windows | None] = {}
    for day, span in day_spans(start, end, schedule.tz):
        if day not in schedule.overrides:
            continue  # nothing was taken off that date
        weekly = schedule.weekly[day.weekday()]
        before = schedule.windows_on(day)
        after = merge(before + intersect(weekly, span))
        if after != before:
            changed[day] = None if after == weekly else after
    return _change(schedule, changed)


def _change(schedule: Schedule, changed: Mapping[date, Windows | None]) -> Change:
    """`None` for a date drops its override (the date is back to its weekly hours)."""
    rows: dict[date, Sequence[dict[str, str]]] = dict(schedule.overrides)
    for day, windows in changed.items():
        if windows is None:
            rows.pop(day, None)
        else:
            rows[day] = override_rows(day, windows)
    overrides = [dict(row) for day in sorted(rows) for row in rows[day]]
    return Change(overrides=overrides, days=tuple(sorted(changed)))
