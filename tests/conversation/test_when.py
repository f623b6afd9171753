"""Time understanding: phrases resolved against a pinned `now` in the business timezone, across DST and year ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silentpartner.conversation.when import Ambiguous, InThePast, TimeWindow, resolve_choice, understand_when

PORTLAND = ZoneInfo("America/Los_Angeles")
WED = "2026-11-25T10:00"  # Wednesday 25 November 2026, 10:00 in Portland


def local(iso: str, tz: ZoneInfo = PORTLAND) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=tz)


def window(text: str, now: str, tz: ZoneInfo = PORTLAND) -> TimeWindow:
    result = understand_when(text, local(now, tz), tz)
    assert isinstance(result, TimeWindow), f"{text!r} gave {result!r}"
    return result


# (said at, what was said, start, end, label, exact, asap); start/end with their UTC offsets.
WINDOWS = [
    (WED, "tomorrow at two", "2026-11-26T14:00-08:00", "2026-11-27T00:00-08:00", "tomorrow at 2 PM", True, False),
    (WED, "tomorrow at 2:30pm", "2026-11-26T14:30-08:00", "2026-11-27T00:00-08:00", "tomorrow at 2:30 PM", True, False),
    (WED, "Tomorrow at 8", "2026-11-26T08:00-08:00", "2026-11-27T00:00-08:00", "tomorrow at 8 AM", True, False),
    (
        WED,
        "tomorrow at 8 in the evening",
        "2026-11-26T20:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 8 PM",
        True,
        False,
    ),
    (WED, "tomorrow at 11 a.m.", "2026-11-26T11:00-08:00", "2026-11-27T00:00-08:00", "tomorrow at 11 AM", True, False),
    (WED, "Thursday afternoon", "2026-11-26T12:00-08:00", "2026-11-26T17:00-08:00", "tomorrow afternoon", False, False),
    (
        WED,
        "Friday morning",
        "2026-11-27T08:00-08:00",
        "2026-11-27T12:00-08:00",
        "Friday morning, the 27th",
        False,
        False,
    ),
    (
        WED,
        "Friday evening",
        "2026-11-27T17:00-08:00",
        "2026-11-27T21:00-08:00",
        "Friday evening, the 27th",
        False,
        False,
    ),
    (
        WED,
        "next Monday morning",
        "2026-11-30T08:00-08:00",
        "2026-11-30T12:00-08:00",
        "Monday morning, the 30th",
        False,
        False,
    ),
    (WED, "the 14th", "2026-12-14T00:00-08:00", "2026-12-15T00:00-08:00", "Monday, December the 14th", False, False),
    (WED, "on the twenty seventh", "2026-11-27T00:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th", False, False),
    (WED, "the 25th", "2026-11-25T10:00-08:00", "2026-11-26T00:00-08:00", "today", False, False),
    (WED, "the 31st", "2026-12-31T00:00-08:00", "2027-01-01T00:00-08:00", "Thursday, December the 31st", False, False),
    (
        WED,
        "December 3rd",
        "2026-12-03T00:00-08:00",
        "2026-12-04T00:00-08:00",
        "Thursday, December the 3rd",
        False,
        False,
    ),
    (
        WED,
        "the 3rd of December",
        "2026-12-03T00:00-08:00",
        "2026-12-04T00:00-08:00",
        "Thursday, December the 3rd",
        False,
        False,
    ),
    (WED, "12/3", "2026-12-03T00:00-08:00", "2026-12-04T00:00-08:00", "Thursday, December the 3rd", False, False),
    (
        WED,
        "december third at 9",
        "2026-12-03T09:00-08:00",
        "2026-12-04T00:00-08:00",
        "Thursday, December the 3rd at 9 AM",
        True,
        False,
    ),
    (
        WED,
        "as soon as possible",
        "2026-11-25T10:00-08:00",
        "2026-12-09T00:00-08:00",
        "as soon as possible",
        False,
        True,
    ),
    (
        WED,
        "whatever's earliest",
        "2026-11-25T10:00-08:00",
        "2026-12-09T00:00-08:00",
        "as soon as possible",
        False,
        True,
    ),
    (
        WED,
        "today if you can",
        "2026-11-25T10:00-08:00",
        "2026-12-09T00:00-08:00",
        "as soon as possible, today if we can",
        False,
        True,
    ),
    (WED, "after 3", "2026-11-25T15:00-08:00", "2026-11-26T00:00-08:00", "today after 3 PM", False, False),
    (
        WED,
        "Friday after 3",
        "2026-11-27T15:00-08:00",
        "2026-11-28T00:00-08:00",
        "Friday the 27th after 3 PM",
        False,
        False,
    ),
    (WED, "before noon", "2026-11-25T10:00-08:00", "2026-11-25T12:00-08:00", "today before noon", False, False),
    (
        WED,
        "tomorrow before noon",
        "2026-11-26T00:00-08:00",
        "2026-11-26T12:00-08:00",
        "tomorrow before noon",
        False,
        False,
    ),
    (
        WED,
        "no later than 3 tomorrow",
        "2026-11-26T00:00-08:00",
        "2026-11-26T15:00-08:00",
        "tomorrow before 3 PM",
        False,
        False,
    ),
    (
        WED,
        "between 2 and 4 on Friday",
        "2026-11-27T14:00-08:00",
        "2026-11-27T16:00-08:00",
        "Friday the 27th between 2 PM and 4 PM",
        False,
        False,
    ),
    (WED, "any time Friday", "2026-11-27T00:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th", False, False),
    (WED, "Friday", "2026-11-27T00:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th", False, False),
    (WED, "this Friday", "2026-11-27T00:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th", False, False),
    (
        WED,
        "Friday after next",
        "2026-12-04T00:00-08:00",
        "2026-12-05T00:00-08:00",
        "Friday, December the 4th",
        False,
        False,
    ),
    (
        WED,
        "Friday next week",
        "2026-12-04T00:00-08:00",
        "2026-12-05T00:00-08:00",
        "Friday, December the 4th",
        False,
        False,
    ),
    (
        WED,
        "next Wednesday",
        "2026-12-02T00:00-08:00",
        "2026-12-03T00:00-08:00",
        "Wednesday, December the 2nd",
        False,
        False,
    ),
    (WED, "this weekend", "2026-11-28T00:00-08:00", "2026-11-30T00:00-08:00", "this weekend", False, False),
    (WED, "next week", "2026-11-30T00:00-08:00", "2026-12-07T00:00-08:00", "next week", False, False),
    (WED, "sometime this week", "2026-11-25T10:00-08:00", "2026-11-30T00:00-08:00", "this week", False, False),
    (WED, "today", "2026-11-25T10:00-08:00", "2026-11-26T00:00-08:00", "today", False, False),
    (WED, "tonight", "2026-11-25T17:00-08:00", "2026-11-25T21:00-08:00", "tonight", False, False),
    (WED, "tonight at 7", "2026-11-25T19:00-08:00", "2026-11-26T00:00-08:00", "today at 7 PM", True, False),
    (WED, "in two hours", "2026-11-25T12:00-08:00", "2026-11-26T00:00-08:00", "today at noon", True, False),
    (
        WED,
        "in an hour and a half",
        "2026-11-25T11:30-08:00",
        "2026-11-26T00:00-08:00",
        "today at 11:30 AM",
        True,
        False,
    ),
    (WED, "in 3 days", "2026-11-28T00:00-08:00", "2026-11-29T00:00-08:00", "Saturday the 28th", False, False),
    (WED, "morning", "2026-11-25T10:00-08:00", "2026-11-25T12:00-08:00", "this morning", False, False),
    (WED, "this afternoon", "2026-11-25T12:00-08:00", "2026-11-25T17:00-08:00", "this afternoon", False, False),
    (WED, "evening", "2026-11-25T17:00-08:00", "2026-11-25T21:00-08:00", "tonight", False, False),
    (
        WED,
        "first thing in the morning",
        "2026-11-26T08:00-08:00",
        "2026-11-26T12:00-08:00",
        "tomorrow morning",
        False,
        True,
    ),
    (
        WED,
        "the day after tomorrow",
        "2026-11-27T00:00-08:00",
        "2026-11-28T00:00-08:00",
        "Friday the 27th",
        False,
        False,
    ),
    (WED, "this coming Friday", "2026-11-27T00:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th", False, False),
    (WED, "Tuesday the 1st", "2026-12-01T00:00-08:00", "2026-12-02T00:00-08:00", "Tuesday the 1st", False, False),
    (WED, "around 3 tomorrow", "2026-11-26T15:00-08:00", "2026-11-27T00:00-08:00", "tomorrow at 3 PM", True, False),
    (WED, "3pm", "2026-11-25T15:00-08:00", "2026-11-26T00:00-08:00", "today at 3 PM", True, False),
    (WED, "at 7 pm", "2026-11-25T19:00-08:00", "2026-11-26T00:00-08:00", "today at 7 PM", True, False),
    (
        WED,
        "sometime after lunch tomorrow",
        "2026-11-26T13:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow after 1 PM",
        False,
        False,
    ),
    (
        WED,
        "from 10 to 2 tomorrow",
        "2026-11-26T10:00-08:00",
        "2026-11-26T14:00-08:00",
        "tomorrow between 10 AM and 2 PM",
        False,
        False,
    ),
    (
        WED,
        "Thursday afternoon after 3",
        "2026-11-26T15:00-08:00",
        "2026-11-26T17:00-08:00",
        "tomorrow afternoon after 3 PM",
        False,
        False,
    ),
    (WED, "sometime in December", "2026-12-01T00:00-08:00", "2027-01-01T00:00-08:00", "in December", False, False),
    (
        WED,
        "the morning of the 14th",
        "2026-12-14T08:00-08:00",
        "2026-12-14T12:00-08:00",
        "Monday morning, December the 14th",
        False,
        False,
    ),
    (
        WED,
        "dec 3 at 10:30am",
        "2026-12-03T10:30-08:00",
        "2026-12-04T00:00-08:00",
        "Thursday, December the 3rd at 10:30 AM",
        True,
        False,
    ),
    (
        WED,
        "in two weeks",
        "2026-12-07T00:00-08:00",
        "2026-12-14T00:00-08:00",
        "the week of December the 7th",
        False,
        False,
    ),
    (WED, "in half an hour", "2026-11-25T10:30-08:00", "2026-11-26T00:00-08:00", "today at 10:30 AM", True, False),
    (WED, "whenever", "2026-11-25T10:00-08:00", "2026-12-09T00:00-08:00", "as soon as possible", False, True),
    (
        WED,
        "earliest you have on Friday",
        "2026-11-27T00:00-08:00",
        "2026-11-28T00:00-08:00",
        "Friday the 27th",
        False,
        True,
    ),
    (
        "2026-11-25T15:00",
        "in the morning",
        "2026-11-26T08:00-08:00",
        "2026-11-26T12:00-08:00",
        "tomorrow morning",
        False,
        False,
    ),
    (
        "2026-11-25T15:00",
        "this afternoon",
        "2026-11-25T15:00-08:00",
        "2026-11-25T17:00-08:00",
        "this afternoon",
        False,
        False,
    ),
    (
        "2026-11-29T10:00",
        "this weekend",
        "2026-11-29T10:00-08:00",
        "2026-11-30T00:00-08:00",
        "this weekend",
        False,
        False,
    ),
    ("2026-11-29T10:00", "this Sunday", "2026-11-29T10:00-08:00", "2026-11-30T00:00-08:00", "today", False, False),
    # corrections inside one sentence: the later words win
    (WED, "Wednesday, no, Thursday", "2026-11-26T00:00-08:00", "2026-11-27T00:00-08:00", "tomorrow", False, False),
    (
        WED,
        "Friday at 2, sorry, 3",
        "2026-11-27T15:00-08:00",
        "2026-11-28T00:00-08:00",
        "Friday the 27th at 3 PM",
        True,
        False,
    ),
    (
        WED,
        "tomorrow at 10, no, 11",
        "2026-11-26T11:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 11 AM",
        True,
        False,
    ),
    (
        WED,
        "Monday morning, actually make it Tuesday",
        "2026-12-01T08:00-08:00",
        "2026-12-01T12:00-08:00",
        "Tuesday morning, the 1st",
        False,
        False,
    ),
    (
        WED,
        "not Friday, Saturday",
        "2026-11-28T00:00-08:00",
        "2026-11-29T00:00-08:00",
        "Saturday the 28th",
        False,
        False,
    ),
    (
        WED,
        "Wednesday is no good, Thursday?",
        "2026-11-26T00:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow",
        False,
        False,
    ),
    (
        WED,
        "I can't do Monday, how about Tuesday morning",
        "2026-12-01T08:00-08:00",
        "2026-12-01T12:00-08:00",
        "Tuesday morning, the 1st",
        False,
        False,
    ),
    (
        WED,
        "no hot water since Tuesday, can you come today",
        "2026-11-25T10:00-08:00",
        "2026-11-26T00:00-08:00",
        "today",
        False,
        False,
    ),
    (
        WED,
        "call me tomorrow at 2, my number is 503 555 1234",
        "2026-11-26T14:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 2 PM",
        True,
        False,
    ),
    (
        WED,
        "between 6 and 8 tomorrow",
        "2026-11-26T18:00-08:00",
        "2026-11-26T20:00-08:00",
        "tomorrow between 6 PM and 8 PM",
        False,
        False,
    ),
    (
        WED,
        "Good morning, I need someone tomorrow",
        "2026-11-26T00:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow",
        False,
        False,
    ),
    (
        WED,
        "Hi, I'm John, at 12 Oak St, tomorrow at 2",
        "2026-11-26T14:00-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 2 PM",
        True,
        False,
    ),
    (
        WED,
        "come at 3 to 55 main street",
        "2026-11-25T15:00-08:00",
        "2026-11-26T00:00-08:00",
        "today at 3 PM",
        True,
        False,
    ),
    (
        WED,
        "end of the week",
        "2026-11-26T00:00-08:00",
        "2026-11-28T00:00-08:00",
        "at the end of the week",
        False,
        False,
    ),
    (WED, "Thursday's good", "2026-11-26T00:00-08:00", "2026-11-27T00:00-08:00", "tomorrow", False, False),
    (WED, "the 2 o'clock", "2026-11-25T14:00-08:00", "2026-11-26T00:00-08:00", "today at 2 PM", True, False),
    (WED, "what about 3?", "2026-11-25T15:00-08:00", "2026-11-26T00:00-08:00", "today at 3 PM", True, False),
    (
        "2026-11-25T15:00",
        "mornings are best",
        "2026-11-26T08:00-08:00",
        "2026-11-26T12:00-08:00",
        "tomorrow morning",
        False,
        False,
    ),
    # numbers said as words
    (WED, "at two thirty", "2026-11-25T14:30-08:00", "2026-11-26T00:00-08:00", "today at 2:30 PM", True, False),
    (
        WED,
        "tomorrow at half past ten",
        "2026-11-26T10:30-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 10:30 AM",
        True,
        False,
    ),
    (WED, "quarter to four", "2026-11-25T15:45-08:00", "2026-11-26T00:00-08:00", "today at 3:45 PM", True, False),
    (
        WED,
        "quarter past eleven tomorrow",
        "2026-11-26T11:15-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 11:15 AM",
        True,
        False,
    ),
    (
        WED,
        "tomorrow at twelve oh five",
        "2026-11-26T12:05-08:00",
        "2026-11-27T00:00-08:00",
        "tomorrow at 12:05 PM",
        True,
        False,
    ),
    (WED, "Friday at noon", "2026-11-27T12:00-08:00", "2026-11-28T00:00-08:00", "Friday the 27th at noon", True, False),
    (WED, "ten o'clock tomorrow", "2026-11-26T10:00-08:00", "2026-11-27T00:00-08:00", "tomorrow at 10 AM", True, False),
    # spring forward, Sunday 8 March 2026: the day has 23 hours, the morning is already in PDT
    (
        "2026-03-07T10:00",
        "tomorrow morning",
        "2026-03-08T08:00-07:00",
        "2026-03-08T12:00-07:00",
        "tomorrow morning",
        False,
        False,
    ),
    ("2026-03-07T10:00", "tomorrow", "2026-03-08T00:00-08:00", "2026-03-09T00:00-07:00", "tomorrow", False, False),
    (
        "2026-03-07T10:00",
        "tomorrow at two",
        "2026-03-08T14:00-07:00",
        "2026-03-09T00:00-07:00",
        "tomorrow at 2 PM",
        True,
        False,
    ),
    (
        "2026-03-04T10:00",
        "this weekend",
        "2026-03-07T00:00-08:00",
        "2026-03-09T00:00-07:00",
        "this weekend",
        False,
        False,
    ),
    ("2026-03-04T10:00", "next week", "2026-03-09T00:00-07:00", "2026-03-16T00:00-07:00", "next week", False, False),
    # 2:30 AM does not exist on 8 March: the window starts at the real instant, 3:30 PDT, and says so
    (
        "2026-03-07T10:00",
        "tomorrow at 2:30 am",
        "2026-03-08T03:30-07:00",
        "2026-03-09T00:00-07:00",
        "tomorrow at 3:30 AM",
        True,
        False,
    ),
    (
        "2026-03-08T01:30",
        "in two hours",
        "2026-03-08T04:30-07:00",
        "2026-03-09T00:00-07:00",
        "today at 4:30 AM",
        True,
        False,
    ),
    # fall back, Sunday 1 November 2026: the day has 25 hours
    ("2026-10-31T10:00", "tomorrow", "2026-11-01T00:00-07:00", "2026-11-02T00:00-08:00", "tomorrow", False, False),
    (
        "2026-10-31T10:00",
        "tomorrow at 9",
        "2026-11-01T09:00-08:00",
        "2026-11-02T00:00-08:00",
        "tomorrow at 9 AM",
        True,
        False,
    ),
    (
        "2026-10-31T10:00",
        "tomorrow morning",
        "2026-11-01T08:00-08:00",
        "2026-11-01T12:00-08:00",
        "tomorrow morning",
        False,
        False,
    ),
    (
        "2026-10-28T10:00",
        "any time Monday",
        "2026-11-02T00:00-08:00",
        "2026-11-03T00:00-08:00",
        "Monday the 2nd",
        False,
        False,
    ),
    # year ends
    (
        "2026-12-30T10:00",
        "January 2nd",
        "2027-01-02T00:00-08:00",
        "2027-01-03T00:00-08:00",
        "Saturday the 2nd",
        False,
        False,
    ),
    (
        "2026-12-30T10:00",
        "the 2nd",
        "2027-01-02T00:00-08:00",
        "2027-01-03T00:00-08:00",
        "Saturday the 2nd",
        False,
        False,
    ),
    (
        "2026-12-30T10:00",
        "1/5",
        "2027-01-05T00:00-08:00",
        "2027-01-06T00:00-08:00",
        "Tuesday the 5th",
        False,
        False,
    ),
    ("2026-12-30T10:00", "December 30th", "2026-12-30T10:00-08:00", "2026-12-31T00:00-08:00", "today", False, False),
    ("2026-12-30T10:00", "next week", "2027-01-04T00:00-08:00", "2027-01-11T00:00-08:00", "next week", False, False),
    (
        "2026-12-30T10:00",
        "the 14th",
        "2027-01-14T00:00-08:00",
        "2027-01-15T00:00-08:00",
        "Thursday, January the 14th",
        False,
        False,
    ),
    (
        "2026-12-31T15:00",
        "tomorrow morning",
        "2027-01-01T08:00-08:00",
        "2027-01-01T12:00-08:00",
        "tomorrow morning",
        False,
        False,
    ),
    (
        "2026-12-31T15:00",
        "this weekend",
        "2027-01-02T00:00-08:00",
        "2027-01-04T00:00-08:00",
        "this weekend",
        False,
        False,
    ),
    (
        "2026-12-31T15:00",
        "Monday at 10",
        "2027-01-04T10:00-08:00",
        "2027-01-05T00:00-08:00",
        "Monday the 4th at 10 AM",
        True,
        False,
    ),
]


@pytest.mark.parametrize(("now", "text", "start", "end", "label", "exact", "asap"), WINDOWS)
def test_phrases_resolve_to_windows(
    now: str, text: str, start: str, end: str, label: str, exact: bool, asap: bool
) -> None:
    result = window(text, now)
    assert result.start.isoformat(timespec="minutes") == start
    assert result.end.isoformat(timespec="minutes") == end
    assert (result.label, result.exact, result.asap) == (label, exact, asap)
    assert result.start.tzinfo is PORTLAND and result.end.tzinfo is PORTLAND


@pytest.mark.parametrize(
    ("now", "text", "hours"),
    [
        ("2026-03-07T10:00", "tomorrow", 23),  # spring forward
        ("2026-10-31T10:00", "tomorrow", 25),  # fall back
        ("2026-11-25T10:00", "Friday", 24),
        ("2026-03-04T10:00", "this weekend", 47),
        ("2026-10-28T10:00", "this weekend", 49),
    ],
)
def test_day_windows_are_whole_local_days_across_dst(now: str, text: str, hours: int) -> None:
    result = window(text, now)
    assert result.end.astimezone(UTC) - result.start.astimezone(UTC) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("now", "text", "message"),
    [
        ("2026-11-25T15:00", "at two", "2 PM today has already passed."),
        ("2026-11-25T15:00", "today at 2:30", "2:30 PM today has already passed."),
        ("2026-11-25T13:00", "this morning", "This morning has already passed."),
        ("2026-11-25T21:30", "tonight", "Tonight has already passed."),
        ("2026-11-25T15:00", "before noon", "Today before noon has already passed."),
        (WED, "yesterday", "Yesterday has already passed."),
        (WED, "last Monday", "Last Monday has already passed."),
        (WED, "Monday this week", "Monday this week has already passed."),
        (WED, "December 3rd 2025", "Wednesday, December the 3rd has already passed."),
        ("2026-11-25T15:00", "this morning", "This morning has already passed."),
    ],
)
def test_past_times_get_an_honest_answer(now: str, text: str, message: str) -> None:
    result = understand_when(text, local(now), PORTLAND)
    assert isinstance(result, InThePast), result
    assert result.message == message
    assert result.window.start < result.window.end
    assert result.window.end.astimezone(UTC) <= local(now).astimezone(UTC) or result.window.exact


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "my sink is leaking",
        "yes",
        "no",
        "not today",
        "I'm at 4410 SE Hawthorne Blvd",
        "my number is 503 555 1234",
        "it's on the second floor",
        "we live on 3rd avenue",
        "I have 2 toilets",
        "hang on a minute",
        "my number is five oh three five five five one two three four",
        "one two three main street",
        "I'm at 12 Oak Street",
        "we're at twelve oak street",
        "tomorrow isn't good",
        "it's been leaking for 2 days",
        "about 3 toilets",
        "the 2 of us",
        "like 20 years ago",
        "in 900 days",
        "",
    ],
)
def test_no_time_expression_gives_none(text: str) -> None:
    assert understand_when(text, local(WED), PORTLAND) is None


def test_next_friday_on_a_wednesday_is_asked_about() -> None:
    result = understand_when("next Friday", local(WED), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert result.question == "Do you mean this Friday, the 27th, or next Friday, December the 4th?"
    assert [o.start.date().isoformat() for o in result.options] == ["2026-11-27", "2026-12-04"]
    assert [o.label for o in result.options] == ["Friday the 27th", "Friday, December the 4th"]


def test_next_friday_keeps_the_time_of_day_in_both_options() -> None:
    result = understand_when("next Friday afternoon", local(WED), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert [(o.start.hour, o.end.hour) for o in result.options] == [(12, 17), (12, 17)]


def test_next_friday_at_year_end_crosses_into_january() -> None:
    result = understand_when("next Friday", local("2026-12-30T10:00"), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert [o.start.date().isoformat() for o in result.options] == ["2027-01-01", "2027-01-08"]
    assert result.question == "Do you mean this Friday, January the 1st, or next Friday, January the 8th?"


def test_a_bare_weekday_said_on_that_day_asks_today_or_next_week() -> None:
    result = understand_when("Friday at 3", local("2026-11-27T10:00"), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert result.question == "Do you mean today, or next Friday, December the 4th?"
    assert [o.label for o in result.options] == ["today at 3 PM", "Friday, December the 4th at 3 PM"]


def test_a_bare_weekday_whose_time_has_gone_today_means_next_week() -> None:
    result = window("Friday morning", "2026-11-27T13:00")
    assert result.start.isoformat(timespec="minutes") == "2026-12-04T08:00-08:00"


@pytest.mark.parametrize(
    ("answer", "picked"), [("Tuesday", "2026-12-01"), ("the 2nd", "2026-12-02"), ("the 1st", "2026-12-01")]
)
def test_a_weekday_that_does_not_match_the_date_is_asked_about(answer: str, picked: str) -> None:
    result = understand_when("Tuesday the 2nd at 10", local(WED), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert result.question == "Do you mean Tuesday, December the 1st, or Wednesday, December the 2nd?"
    assert [o.start.isoformat(timespec="minutes") for o in result.options] == [
        "2026-12-01T10:00-08:00",
        "2026-12-02T10:00-08:00",
    ]
    chosen = resolve_choice(answer, result)
    assert chosen is not None and chosen.start.date().isoformat() == picked


def test_next_weekend_on_a_weekday_is_asked_about() -> None:
    result = understand_when("next weekend", local(WED), PORTLAND)
    assert isinstance(result, Ambiguous)
    assert [o.start.date().isoformat() for o in result.options] == ["2026-11-28", "2026-12-05"]


@pytest.mark.parametrize(
    ("answer", "picked"),
    [
        ("this one", "2026-11-27"),
        ("this Friday", "2026-11-27"),
        ("the first one", "2026-11-27"),
        ("the sooner one please", "2026-11-27"),
        ("the 27th", "2026-11-27"),
        ("next", "2026-12-04"),
        ("next week", "2026-12-04"),
        ("the 4th", "2026-12-04"),
        ("December 4th", "2026-12-04"),
        ("the fourth", "2026-12-04"),
        ("not this one, the one after", "2026-12-04"),
        ("the later one", "2026-12-04"),
        ("the second", "2026-12-04"),
        ("the second one", "2026-12-04"),
        ("this Friday, not next", "2026-11-27"),
    ],
)
def test_resolve_choice_picks_the_option_named(answer: str, picked: str) -> None:
    ambiguous = understand_when("next Friday", local(WED), PORTLAND)
    assert isinstance(ambiguous, Ambiguous)
    chosen = resolve_choice(answer, ambiguous)
    assert chosen is not None and chosen.start.date().isoformat() == picked


@pytest.mark.parametrize("answer", ["hmm", "I don't know", "the 9th", ""])
def test_resolve_choice_returns_none_when_unclear(answer: str) -> None:
    ambiguous = understand_when("next Friday", local(WED), PORTLAND)
    assert isinstance(ambiguous, Ambiguous)
    assert resolve_choice(answer, ambiguous) is None


def test_resolve_choice_today_or_next_week() -> None:
    ambiguous = understand_when("Friday", local("2026-11-27T10:00"), PORTLAND)
    assert isinstance(ambiguous, Ambiguous)
    today = resolve_choice("today please", ambiguous)
    assert today is not None and today.start.isoformat(timespec="minutes") == "2026-11-27T10:00-08:00"


def test_now_in_another_zone_is_read_in_the_business_zone() -> None:
    # 02:00 UTC on Thursday is still Wednesday evening in Portland: "tomorrow" is Thursday.
    result = understand_when("tomorrow", datetime(2026, 11, 26, 2, 0, tzinfo=UTC), PORTLAND)
    assert isinstance(result, TimeWindow)
    assert result.start.isoformat() == "2026-11-26T00:00:00-08:00"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        understand_when("tomorrow", datetime(2026, 11, 25, 10, 0), PORTLAND)


# ---------------------------------------------------------------- properties

ZONES = [PORTLAND, ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe")]
PIECES = [
    "",
    "today",
    "tomorrow",
    "tonight",
    "yesterday",
    "Friday",
    "this Friday",
    "next Friday",
    "next Monday",
    "Sunday",
    "the 14th",
    "the 31st",
    "the 1st",
    "December 3rd",
    "January 2nd",
    "2/29",
    "12/3",
    "this weekend",
    "next weekend",
    "next week",
    "this week",
    "in two hours",
    "in 3 days",
    "as soon as possible",
    "today if you can",
    "first thing",
    "morning",
    "afternoon",
    "evening",
    "at two",
    "at 2:30pm",
    "at 9",
    "at noon",
    "after 3",
    "before noon",
    "between 2 and 4",
    "half past ten",
    "quarter to four",
    "any time",
    "no,",
    "actually",
    "Tuesday the 2nd",
    "Friday the 13th",
    "doesn't work",
    "not",
    "in the morning",
    "five oh three five five five one two three four",
]

moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31, 23, 59), timezones=st.just(UTC))


def _windows(result: object) -> list[TimeWindow]:
    if isinstance(result, TimeWindow):
        return [result]
    if isinstance(result, Ambiguous):
        return list(result.options)
    return []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=4),
    now=moments,
    tz=st.sampled_from(ZONES),
)
def test_windows_are_ordered_aware_in_the_business_zone_and_never_past(
    pieces: list[str], now: datetime, tz: ZoneInfo
) -> None:
    result = understand_when(" ".join(pieces), now, tz)
    for found in _windows(result):
        assert found.start.tzinfo is tz and found.end.tzinfo is tz
        assert found.start.astimezone(UTC) < found.end.astimezone(UTC)
        assert found.end.astimezone(UTC) > now, "a window entirely in the past"
        if found.exact:
            assert found.start.astimezone(UTC) >= now.replace(second=0, microsecond=0)
        assert found.label
    if isinstance(result, Ambiguous):
        assert len(result.options) >= 2 and result.question.endswith("?")
        first = resolve_choice("the first one", result)
        assert first == result.options[0]
    if isinstance(result, InThePast):
        assert result.window.start.astimezone(UTC) < result.window.end.astimezone(UTC)
        assert result.message.endswith("has already passed.")


@settings(max_examples=200, deadline=None)
@given(now=moments, tz=st.sampled_from(ZONES), days_ahead=st.integers(min_value=1, max_value=364))
def test_a_named_calendar_date_is_never_behind_today(now: datetime, tz: ZoneInfo, days_ahead: int) -> None:
    target = (now.astimezone(tz) + timedelta(days=days_ahead)).date()
    result = understand_when(f"{target:%B} {target.day}", now, tz)
    assert isinstance(result, TimeWindow)
    assert result.start.date() == target
    assert result.end == datetime.combine(target + timedelta(days=1), datetime.min.time(), tzinfo=tz)
