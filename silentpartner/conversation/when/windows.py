"""Windows of local time: parts of the day, whole days, clipping at now, and how each is said back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from silentpartner.conversation.when.results import InThePast, TimeWindow
from silentpartner.conversation.when.spec import Spec
from silentpartner.speech_text import DAY_NAMES, clock, ordinal, spoken_day

MORNING = (8 * 60, 12 * 60)
AFTERNOON = (12 * 60, 17 * 60)
EVENING = (17 * 60, 21 * 60)
END_OF_DAY = 24 * 60
ASAP_DAYS = 14  # "as soon as possible" looks this many days ahead

_PARTS = {
    "morning": ("morning", MORNING),
    "afternoon": ("afternoon", AFTERNOON),
    "evening": ("evening", EVENING),
    "night": ("evening", EVENING),
    "tonight": ("evening", EVENING),
}


def wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """A local wall time on a day, zone attached; a time skipped by spring-forward moves to the real instant."""
    extra_days, minutes = divmod(minutes, 24 * 60)
    local = datetime.combine(day + timedelta(days=extra_days), time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz)


def is_before(a: datetime, b: datetime) -> bool:
    """Instant order (aware datetimes sharing a tzinfo otherwise compare by wall clock)."""
    return a.astimezone(UTC) < b.astimezone(UTC)


def _part_label(day: date, today: date, part: str) -> str:
    if day == today:
        return "tonight" if part == "evening" else f"this {part}"
    if day == today + timedelta(days=1):
        return f"tomorrow {part}"
    name = DAY_NAMES[day.weekday()]
    if (day - today).days < 7:
        return f"{name} {part}, the {ordinal(day.day)}"
    return f"{name} {part}, {day:%B} the {ordinal(day.day)}"


def _day_range(spec: Spec) -> tuple[int, int, str | None]:
    """Minutes of the day the caller allows, and the words for it ("after 3 PM", "in the morning")."""
    if spec.exact is not None:
        return spec.exact, END_OF_DAY, None
    start, end = 0, END_OF_DAY
    words: list[str] = []
    if spec.part:
        start, end = _PARTS[spec.part][1]
    if spec.after is not None:
        start = max(start, spec.after) if spec.part else spec.after
        if spec.part and spec.after >= end:
            end = END_OF_DAY
    if spec.before is not None:
        end = min(end, spec.before) if spec.part else spec.before
    if spec.after is not None and spec.before is not None:
        words.append(f"between {clock(start)} and {clock(end)}")
    elif spec.after is not None:
        words.append(f"after {clock(start)}")
    elif spec.before is not None:
        words.append(f"before {clock(end)}")
    if end <= start:
        start, end = (spec.after or 0), END_OF_DAY
    return start, end, " ".join(words) or None


def day_window(day: date, spec: Spec, today: date, tz: ZoneInfo) -> TimeWindow:
    start_min, end_min, range_words = _day_range(spec)
    start, end = wall(day, start_min, tz), wall(day, end_min, tz)
    if spec.exact is not None:
        label = f"{spoken_day(day, today)} at {clock(start)}"  # a time skipped by spring-forward moved on
    elif spec.part and not range_words:
        label = _part_label(day, today, spec.part)
    elif range_words:
        prefix = _part_label(day, today, spec.part) if spec.part else spoken_day(day, today)
        label = f"{prefix} {range_words}"
    else:
        label = spoken_day(day, today)
    return TimeWindow(start=start, end=end, label=label, exact=spec.exact is not None, asap=spec.asap)


def clip(window: TimeWindow, now: datetime, past_message: str | None = None) -> TimeWindow | InThePast:
    """Cut off the part of a window already gone; a window wholly gone (or a precise time gone) is InThePast."""
    gone = not is_before(now, window.end) or (window.exact and is_before(window.start, now))
    if gone:
        return InThePast(window=window, message=past_message or _past_message(window, now))
    if is_before(window.start, now):
        return replace(window, start=now)
    return window


def _past_message(window: TimeWindow, now: datetime) -> str:
    label = window.label
    if window.exact and window.start.date() == now.date():
        label = f"{clock(window.start)} today"
    return f"{label[:1].upper()}{label[1:]} has already passed."


def asap_window(now: datetime, today: date, tz: ZoneInfo, label: str) -> TimeWindow:
    return TimeWindow(start=now, end=wall(today + timedelta(days=ASAP_DAYS), 0, tz), label=label, asap=True)
