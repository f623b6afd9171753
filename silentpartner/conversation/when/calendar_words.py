"""Weekday and month names as callers say and abbreviate them, and how to say a date back."""

from __future__ import annotations

from datetime import date

from silentpartner.speech_text import DAY_NAMES, ordinal

_WEEKDAYS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_WEEKDAY_ABBREVIATIONS = {"mon": 0, "tues": 1, "tue": 1, "weds": 2, "thurs": 3, "thur": 3, "thu": 3, "fri": 4}

MONTHS = {
    name: i + 1
    for i, name in enumerate(
        (
            *("january", "february", "march", "april", "may", "june"),
            *("july", "august", "september", "october", "november", "december"),
        )
    )
}

MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

MONTH_WORD = "|".join(sorted([*MONTHS, *MONTH_ABBREVIATIONS], key=len, reverse=True))
WEEKDAY_WORD = "|".join(sorted([*_WEEKDAYS, *_WEEKDAY_ABBREVIATIONS], key=len, reverse=True))


def weekday_index(word: str) -> int:
    return _WEEKDAYS.get(word, _WEEKDAY_ABBREVIATIONS.get(word, 0))


def month_day_label(day: date, today: date) -> str:
    """ "the 27th" within this month, "December the 4th" otherwise."""
    if day.month == today.month and day.year == today.year:
        return f"the {ordinal(day.day)}"
    return f"{day:%B} the {ordinal(day.day)}"
