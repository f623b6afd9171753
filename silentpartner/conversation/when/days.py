"""Which day was meant: today/tomorrow, calendar dates, weekdays (including "this" vs "next" Friday, which
may be asked back), weekends and weeks.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import dateparser

from silentpartner.conversation.when.calendar_words import (
    MONTH_ABBREVIATIONS,
    MONTH_WORD,
    MONTHS,
    WEEKDAY_WORD,
    month_day_label,
    weekday_index,
)
from silentpartner.conversation.when.clock_times import COUNTED
from silentpartner.conversation.when.spec import Spec
from silentpartner.speech_text import DAY_NAMES

# Ordinals that are floors and streets, not days of the month ("the 2nd floor", "3rd avenue").
_NOT_A_DAY = (
    r"(?! (?:floor|story|storey|street|st|avenue|ave|av|place|pl|way|unit|apartment|apt|bathroom|door)\b)"
    r"(?! " + COUNTED + ")"
)


def _next_weekday(today: date, weekday: int, *, include_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _day_of_month(today: date, dom: int) -> date | None:
    """ "the 14th": this month if still ahead (or today), else the next month that has that day."""
    for months_ahead in range(0, 13):
        year, month = _add_months(today.year, today.month, months_ahead)
        try:
            candidate = date(year, month, dom)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _calendar_date(fragment: str, today: date) -> date | None:
    """A calendar date ("december 3rd", "12/3", "3rd of december"), read by dateparser from the local day.

    RELATIVE_BASE is yesterday so that a date equal to today counts as ahead; anything still behind today
    (a year given explicitly, say) is moved on a year, so "January 2nd" said on December 30th is next year.
    """
    base = datetime.combine(today - timedelta(days=1), time(12, 0))
    parsed = dateparser.parse(
        fragment,
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "MDY",
            "REQUIRE_PARTS": ["day", "month"],
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": False,
        },
    )
    if parsed is None:
        return None
    result = parsed.date()
    explicit_year = re.search(r"\b\d{4}\b|\d+/\d+/\d+", fragment)
    if result < today and not explicit_year:
        try:
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    return result


def read_days(segment: str, spec: Spec, today: date, now: datetime) -> None:
    if re.search(r"\bday after tomorrow\b", segment):
        spec.day = today + timedelta(days=2)
    elif re.search(r"\btomorrow\b", segment):
        spec.day = today + timedelta(days=1)
    elif re.search(r"\b(today|tonight|this (?:morning|afternoon|evening))\b", segment):
        spec.day = today
    elif re.search(r"\byesterday\b|\blast night\b", segment):
        spec.past_label = "yesterday"
        spec.day = today - timedelta(days=1)

    # calendar dates first: "december 3rd", "3rd of december", "12/3"
    month_day = re.search(rf"\b({MONTH_WORD})\.? (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?(?: (\d{{4}}))?\b", segment)
    day_month = re.search(rf"\b(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({MONTH_WORD})\b(?: (\d{{4}}))?", segment)
    numeric = re.search(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b", segment)
    found_date: date | None = None
    if month_day:
        year = f" {month_day.group(3)}" if month_day.group(3) else ""
        found_date = _calendar_date(f"{month_day.group(1)} {month_day.group(2)}{year}", today)
    elif day_month:
        year = f" {day_month.group(3)}" if day_month.group(3) else ""
        found_date = _calendar_date(f"{day_month.group(2)} {day_month.group(1)}{year}", today)
    elif numeric:
        found_date = _calendar_date(numeric.group(0), today)
    else:
        dom = re.search(
            rf"\b(?:on )?the (\d{{1,2}})(?:(?:st|nd|rd|th)\b|(?![:\d])(?!\s*(?:oclock|am|pm)\b)){_NOT_A_DAY}", segment
        )
        dom = dom or re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)\b{_NOT_A_DAY}", segment)
        if dom and 1 <= int(dom.group(1)) <= 31:
            found_date = _day_of_month(today, int(dom.group(1)))
    if found_date:
        spec.day = found_date
        spec.past_label = None
        _check_weekday_agrees(segment, spec, found_date, today)
        return

    month_only = re.search(rf"\b(?:in|during|of|sometime in|some time in) ({MONTH_WORD})\b", segment)
    if month_only:
        month = MONTHS.get(month_only.group(1)) or MONTH_ABBREVIATIONS[month_only.group(1)]
        year = today.year if month >= today.month else today.year + 1
        first = date(year, month, 1)
        ny, nm = _add_months(year, month, 1)
        spec.days = (max(first, today), date(ny, nm, 1))
        spec.span_label = f"in {first:%B}"
        return

    weekday_match = re.search(
        rf"\b(?:(this coming|this|next|coming|a week from|last|on)\s+)?({WEEKDAY_WORD})s?\b(\s+after next)?"
        rf"(\s+(?:of\s+)?(?:next|this) week)?",
        segment,
    )
    week_first = re.search(rf"\b(next|this) week (?:on )?({WEEKDAY_WORD})\b", segment)
    if week_first:
        weekday = weekday_index(week_first.group(2))
        monday = monday_of(today) + timedelta(days=7 if week_first.group(1) == "next" else 0)
        _set_day_in_week(spec, monday + timedelta(days=weekday), today)
        return
    if weekday_match:
        _read_weekday(weekday_match, spec, today)
        return

    if re.search(r"\bnext weekend\b", segment):
        saturday = _next_weekday(today, 5, include_today=True)
        if today.weekday() >= 5:
            # said during a weekend: the one after this
            first = saturday + timedelta(days=7) if today.weekday() == 5 else saturday
            spec.days = (first, first + timedelta(days=2))
            spec.span_label = f"the weekend of {month_day_label(first, today)}"
        else:
            spec.choices = (
                (saturday, saturday + timedelta(days=2), f"this weekend, {month_day_label(saturday, today)}"),
                (
                    saturday + timedelta(days=7),
                    saturday + timedelta(days=9),
                    f"the weekend after, {month_day_label(saturday + timedelta(days=7), today)}",
                ),
            )
        return
    if re.search(r"\b(?:this|the|this coming|on the|over the) weekend\b|^weekends?\b|\bweekends\b", segment):
        saturday = today - timedelta(days=1) if today.weekday() == 6 else _next_weekday(today, 5, include_today=True)
        spec.days = (max(saturday, today), saturday + timedelta(days=2))
        spec.span_label = "this weekend"
        return
    if re.search(r"\bweek after next\b", segment):
        monday = monday_of(today) + timedelta(days=14)
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = f"the week of {month_day_label(monday, today)}"
        return
    if re.search(r"\bnext week\b", segment):
        monday = monday_of(today) + timedelta(days=7)
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = "next week"
        return
    if re.search(r"\bend of (?:the|this) week\b|\blater in the week\b", segment):
        thursday = monday_of(today) + timedelta(days=3 + (7 if today.weekday() >= 5 else 0))
        spec.days = (max(thursday, today), thursday + timedelta(days=2))
        spec.span_label = "at the end of the week"
        return
    if re.search(r"\b(?:this|the rest of the) week\b|\blater this week\b", segment):
        spec.days = (today, monday_of(today) + timedelta(days=7))
        spec.span_label = "this week"
        return


def _check_weekday_agrees(segment: str, spec: Spec, found: date, today: date) -> None:
    """ "Tuesday the 2nd" when the 2nd is a Wednesday: ask which they meant rather than guess."""
    said = re.search(rf"\b({WEEKDAY_WORD})\b", segment)
    if not said or weekday_index(said.group(1)) == found.weekday():
        return
    offset = (weekday_index(said.group(1)) - found.weekday() + 3) % 7 - 3  # the nearest such weekday
    named = found + timedelta(days=offset)
    if named < today:
        named += timedelta(days=7)
    first, second = sorted((found, named))
    spec.day = None
    spec.choices = tuple((d, d + timedelta(days=1), _weekday_date(d, today)) for d in (first, second))


def _weekday_date(day: date, today: date) -> str:
    """ "Tuesday the 1st" this month, "Tuesday, December the 1st" otherwise."""
    month_day = month_day_label(day, today)
    separator = " " if month_day.startswith("the ") else ", "
    return f"{DAY_NAMES[day.weekday()]}{separator}{month_day}"


def _set_day_in_week(spec: Spec, day: date, today: date) -> None:
    if day < today:
        spec.past_label = f"{DAY_NAMES[day.weekday()]} this week"
    spec.day = day


def _read_weekday(match: re.Match[str], spec: Spec, today: date) -> None:
    qualifier, word, after_next, which_week = match.groups()
    weekday = weekday_index(word)
    name = DAY_NAMES[weekday]
    if which_week:
        monday = monday_of(today) + timedelta(days=7 if "next" in which_week else 0)
        _set_day_in_week(spec, monday + timedelta(days=weekday), today)
        return
    upcoming = _next_weekday(today, weekday, include_today=False)
    if after_next or qualifier == "a week from":
        spec.day = upcoming + timedelta(days=7)
    elif qualifier == "last":
        spec.day = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        spec.past_label = f"last {name}"
    elif qualifier in ("this", "this coming"):
        spec.day = _next_weekday(today, weekday, include_today=qualifier == "this")
    elif qualifier == "coming":
        spec.day = upcoming
    elif qualifier == "next":
        in_next_week = monday_of(today) + timedelta(days=7 + weekday)
        if upcoming == in_next_week:
            spec.day = upcoming
        else:
            # "next Friday" said on a Wednesday: this Friday, or the one in next week? Ask.
            spec.choices = (
                (upcoming, upcoming + timedelta(days=1), f"this {name}, {month_day_label(upcoming, today)}"),
                (
                    in_next_week,
                    in_next_week + timedelta(days=1),
                    f"next {name}, {month_day_label(in_next_week, today)}",
                ),
            )
    else:
        spec.day = _next_weekday(today, weekday, include_today=True)
        spec.same_weekday = spec.day == today
