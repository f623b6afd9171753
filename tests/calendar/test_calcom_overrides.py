"""Time off as Cal.com date overrides: the pure math (`calendar/calcom_overrides.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from silentpartner.calendar.calcom_overrides import (
    DAY,
    Schedule,
    ScheduleUnreadable,
    block,
    day_spans,
    format_hhmm,
    merge,
    parse_hhmm,
    reopen,
    subtract,
)

PDX = ZoneInfo("America/Los_Angeles")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
FRIDAY = date(2026, 11, 27)


def schedule(**changes: Any) -> Schedule:
    data: dict[str, Any] = {
        "id": 7,
        "ownerId": 11,
        "name": "Working hours",
        "timeZone": "America/Los_Angeles",
        "availability": [{"days": WEEKDAYS, "startTime": "08:00", "endTime": "17:00"}],
        "isDefault": True,
        "overrides": [],
    }
    data.update(changes)
    return Schedule.from_json(data)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = PDX) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def row(day: date | str, start: str, end: str) -> dict[str, str]:
    return {"date": str(day), "startTime": start, "endTime": end}


# -- windows and times ------------------------------------------------------------------------------


def test_merge_sorts_joins_touching_and_drops_empty():
    assert merge([(600, 700), (480, 600), (800, 800), (900, 850), (650, 720)]) == ((480, 720),)


def test_subtract_splits_a_window_around_the_span():
    assert subtract(((480, 1020),), (720, 780)) == ((480, 720), (780, 1020))
    assert subtract(((480, 720), (780, 1020)), (600, 900)) == ((480, 600), (900, 1020))
    assert subtract(((480, 1020),), (0, DAY)) == ()


def test_hhmm_end_of_day_is_midnight_both_ways():
    assert parse_hhmm("23:59", end=True) == DAY and parse_hhmm("23:59") == 23 * 60 + 59
    assert format_hhmm(DAY) == "23:59" and format_hhmm(13 * 60 + 5) == "13:05"
    for bad in ("24:00", "8:00", "08:60", "", None, 800):
        with pytest.raises(ScheduleUnreadable):
            parse_hhmm(bad)


# -- reading a schedule -----------------------------------------------------------------------------


def test_override_replaces_the_weekday_and_zero_length_is_a_day_off():
    s = schedule(overrides=[row(FRIDAY, "10:00", "12:00"), row("2026-11-30", "00:00", "00:00")])
    assert s.windows_on(FRIDAY) == ((600, 720),)
    assert s.windows_on(date(2026, 11, 30)) == ()  # a Monday, closed by its override
    assert s.windows_on(date(2026, 11, 26)) == ((480, 1020),)  # Thursday: weekly hours
    assert s.windows_on(date(2026, 11, 28)) == ()  # Saturday: no weekly hours


@pytest.mark.parametrize(
    "changes",
    [
        {"timeZone": "Mars/Olympus"},
        {"timeZone": None},
        {"id": "seven"},
        {"availability": [{"days": ["Funday"], "startTime": "08:00", "endTime": "17:00"}]},
        {"availability": [{"days": WEEKDAYS, "startTime": "8am", "endTime": "17:00"}]},
        {"availability": "Mon-Fri"},
        {"overrides": [row("27/11/2026", "10:00", "12:00")]},
        {"overrides": [row("2026-02-30", "10:00", "12:00")]},
        {"overrides": [row(FRIDAY, "10:00", "25:00")]},
        {"overrides": ["2026-11-27"]},
    ],
)
def test_a_schedule_it_cannot_vouch_for_is_refused(changes):
    with pytest.raises(ScheduleUnreadable):
        schedule(**changes)


def test_a_backwards_window_is_no_availability():
    s = schedule(availability=[{"days": ["Friday"], "startTime": "22:00", "endTime": "02:00"}])
    assert s.windows_on(FRIDAY) == ()
    assert block(s, at(FRIDAY, 0), at(FRIDAY, 23)).days == ()


# -- spans ------------------------------------------------------------------------------------------


def test_a_span_is_cut_at_local_midnight_and_widened_to_whole_minutes():
    start = at(FRIDAY, 20).replace(second=30)
    end = datetime(2026, 11, 28, 18, 0, 1, tzinfo=UTC)  # 10:00:01 Saturday in Portland
    assert day_spans(start, end, PDX) == [(FRIDAY, (20 * 60, DAY)), (date(2026, 11, 28), (0, 10 * 60 + 1))]
    assert day_spans(at(FRIDAY, 0), at(date(2026, 11, 28), 0), PDX) == [(FRIDAY, (0, DAY))]


def test_spans_are_wall_clock_on_dst_days():
    spring = date(2026, 3, 8)  # 02:00 PST jumps to 03:00 PDT
    # 01:00 PST to 04:00 PDT: two real hours, three on the wall clock.
    start, end = datetime(2026, 3, 8, 9, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC)
    assert day_spans(start, end, PDX) == [(spring, (60, 240))]
    fall = date(2026, 11, 1)  # 02:00 PDT falls back to 01:00 PST
    # The whole day (25 real hours) is the whole wall-clock day.
    assert day_spans(at(fall, 0), at(date(2026, 11, 2), 0), PDX) == [(fall, (0, DAY))]


# -- block ------------------------------------------------------------------------------------------


def test_block_an_afternoon_writes_the_morning_as_that_dates_override():
    change = block(schedule(), at(FRIDAY, 12), at(FRIDAY, 17))
    assert change.days == (FRIDAY,)
    assert change.overrides == [row(FRIDAY, "08:00", "12:00")]


def test_block_the_middle_of_the_day_leaves_two_windows():
    change = block(schedule(), at(FRIDAY, 11), at(FRIDAY, 13, 30))
    assert change.overrides == [row(FRIDAY, "08:00", "11:00"), row(FRIDAY, "13:30", "17:00")]


def test_block_a_whole_day_is_the_zero_length_override():
    change = block(schedule(), at(FRIDAY, 0), at(date(2026, 11, 28), 0))
    assert change.overrides == [row(FRIDAY, "00:00", "00:00")]


def test_block_on_top_of_an_existing_override_cuts_that_override_not_the_weekly_hours():
    s = schedule(overrides=[row(FRIDAY, "06:00", "10:00"), row(FRIDAY, "14:00", "20:00")])
    change = block(s, at(FRIDAY, 9), at(FRIDAY, 15))
    assert change.overrides == [row(FRIDAY, "06:00", "09:00"), row(FRIDAY, "15:00", "20:00")]


def test_block_leaves_other_dates_overrides_exactly_as_read():
    others = [
        row("2026-12-24", "08:00", "12:00"),
        row("2026-12-25", "00:00", "00:00"),
        row("2026-12-31", "09:00", "23:59"),
    ]
    change = block(schedule(overrides=others), at(FRIDAY, 12), at(FRIDAY, 17))
    assert change.days == (FRIDAY,)
    assert change.overrides == [row(FRIDAY, "08:00", "12:00"), *others]


def test_block_on_a_day_with_no_weekly_hours_changes_nothing():
    saturday = date(2026, 11, 28)
    change = block(schedule(), at(saturday, 9), at(saturday, 17))
    assert change.days == () and change.overrides == []


def test_block_outside_opening_hours_changes_nothing():
    assert block(schedule(), at(FRIDAY, 18), at(FRIDAY, 22)).days == ()


def test_block_twice_is_the_same_as_once():
    once = block(schedule(), at(FRIDAY, 12), at(FRIDAY, 17))
    again = block(schedule(overrides=once.overrides), at(FRIDAY, 12), at(FRIDAY, 17))
    assert again.days == () and again.overrides == once.overrides


def test_block_over_several_days_touches_each_open_day():
    thursday, monday = date(2026, 11, 26), date(2026, 11, 30)
    change = block(schedule(), at(thursday, 15), at(monday, 10))
    assert change.days == (thursday, FRIDAY, monday)
    assert change.overrides == [
        row(thursday, "08:00", "15:00"),
        row(FRIDAY, "00:00", "00:00"),
        row(monday, "10:00", "17:00"),
    ]


def test_block_on_the_spring_forward_day_uses_the_wall_clock():
    spring = date(2026, 3, 8)
    s = schedule(availability=[{"days": ["Sunday"], "startTime": "00:00", "endTime": "23:59"}])
    change = block(s, datetime(2026, 3, 8, 9, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC))
    assert change.overrides == [row(spring, "00:00", "01:00"), row(spring, "04:00", "23:59")]


def test_block_on_the_fall_back_day_uses_the_wall_clock():
    fall = date(2026, 11, 1)
    s = schedule(availability=[{"days": ["Sunday"], "startTime": "08:00", "endTime": "17:00"}])
    # Noon PST is 20:00 UTC on the day the clocks go back.
    change = block(s, datetime(2026, 11, 1, 20, tzinfo=UTC), at(fall, 17))
    assert change.overrides == [row(fall, "08:00", "12:00")]


def test_block_in_the_schedules_zone_not_the_callers():
    s = schedule(timeZone="America/New_York")
    # Noon to 5 pm in Portland is 3 pm to 8 pm in New York: the New York afternoon from 3 goes.
    change = block(s, at(FRIDAY, 12), at(FRIDAY, 17))
    assert change.overrides == [row(FRIDAY, "08:00", "15:00")]


# -- reopen -----------------------------------------------------------------------------------------


def test_reopen_what_was_blocked_drops_the_override():
    blocked = block(schedule(), at(FRIDAY, 12), at(FRIDAY, 17))
    change = reopen(schedule(overrides=blocked.overrides), at(FRIDAY, 12), at(FRIDAY, 17))
    assert change.days == (FRIDAY,) and change.overrides == []


def test_reopen_part_keeps_an_override_for_the_rest():
    s = schedule(overrides=[row(FRIDAY, "00:00", "00:00")])
    change = reopen(s, at(FRIDAY, 8), at(FRIDAY, 12))
    assert change.overrides == [row(FRIDAY, "08:00", "12:00")]


def test_reopen_never_opens_beyond_the_weekly_hours():
    s = schedule(overrides=[row(FRIDAY, "08:00", "12:00")])
    change = reopen(s, at(FRIDAY, 0), at(date(2026, 11, 28), 0))
    assert change.days == (FRIDAY,) and change.overrides == []  # back to 08:00-17:00, not 00:00-24:00


def test_reopen_keeps_extra_hours_the_owner_added():
    s = schedule(overrides=[row(FRIDAY, "08:00", "12:00"), row(FRIDAY, "18:00", "20:00")])
    change = reopen(s, at(FRIDAY, 12), at(FRIDAY, 17))
    assert change.overrides == [row(FRIDAY, "08:00", "17:00"), row(FRIDAY, "18:00", "20:00")]


def test_reopen_split_windows_fills_the_gap():
    s = schedule(overrides=[row(FRIDAY, "08:00", "11:00"), row(FRIDAY, "13:30", "17:00")])
    assert reopen(s, at(FRIDAY, 11), at(FRIDAY, 12)).overrides == [
        row(FRIDAY, "08:00", "12:00"),
        row(FRIDAY, "13:30", "17:00"),
    ]
    assert reopen(s, at(FRIDAY, 10), at(FRIDAY, 14)).overrides == []


def test_reopen_with_nothing_off_is_zero_changes():
    assert reopen(schedule(), at(FRIDAY, 12), at(FRIDAY, 17)).days == ()
    # A Saturday override (extra hours) is not time off: reopening adds no Saturday weekly hours.
    saturday = date(2026, 11, 28)
    s = schedule(overrides=[row(saturday, "09:00", "12:00")])
    assert reopen(s, at(saturday, 0), at(saturday, 23)).days == ()


def test_reopen_over_a_closed_dst_day():
    fall = date(2026, 11, 1)
    s = schedule(
        availability=[{"days": ["Sunday"], "startTime": "08:00", "endTime": "17:00"}],
        overrides=[row(fall, "00:00", "00:00"), row("2026-11-08", "00:00", "00:00")],
    )
    change = reopen(s, at(fall, 0), at(date(2026, 11, 2), 0))
    assert change.days == (fall,) and change.overrides == [row("2026-11-08", "00:00", "00:00")]
