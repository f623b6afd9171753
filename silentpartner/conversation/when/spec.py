"""The pieces of one time expression (day, part of day, clock time...) before they become a window."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime


@dataclass
class Spec:
    """The pieces of a time expression; a later correction overrides the pieces it names."""

    day: date | None = None
    days: tuple[date, date] | None = None  # a span [first, last) of whole days: "next week", "this weekend"
    span_label: str | None = None
    choices: tuple[tuple[date, date, str], ...] = ()  # ambiguous readings: (first, last, description)
    past_label: str | None = None  # "yesterday", "last Friday"
    same_weekday: bool = False  # a bare weekday equal to today's: today or a week from today?
    part: str | None = None  # "morning", "afternoon", "evening"
    after: int | None = None
    before: int | None = None
    exact: int | None = None
    at: datetime | None = None  # "in two hours": an absolute moment
    asap: bool = False
    flexible_today: bool = False  # "today if you can"
    any_time: bool = False

    def has_day(self) -> bool:
        return bool(self.day or self.days or self.choices or self.past_label or self.at)

    def has_time(self) -> bool:
        return bool(self.part or self.after is not None or self.before is not None or self.exact is not None)

    def found(self) -> bool:
        return self.has_day() or self.has_time() or self.asap or self.any_time


def merge(earlier: Spec, later: Spec) -> Spec:
    merged = replace(earlier)
    if later.has_day():
        for name in ("day", "days", "span_label", "choices", "past_label", "same_weekday", "at"):
            setattr(merged, name, getattr(later, name))
    if later.has_time():
        for name in ("part", "after", "before", "exact"):
            setattr(merged, name, getattr(later, name))
        merged.at = later.at
    merged.asap = earlier.asap or later.asap
    merged.flexible_today = earlier.flexible_today or later.flexible_today
    merged.any_time = earlier.any_time or later.any_time
    return merged
