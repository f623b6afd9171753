"""When the caller wants to be seen: "tomorrow at two", "Thursday afternoon", "the 14th", "as soon as possible".

Dates are resolved here, on the server, in the business timezone and anchored to an injected `now`; no
model ever does date arithmetic (DESIGN principle 2). Explicit rules cover the ways trades customers say
times; dateparser, with `RELATIVE_BASE` pinned to the business-local day, reads calendar dates such as
"December 3rd" and "12/3". Wall-clock results are always built from a local date and a local time with
the zone attached, never by adding a timedelta across a DST change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from silentpartner.conversation.spoken import ORDINALS, STREET_TYPES, TEENS, TENS, UNITS
from silentpartner.speech_text import DAY_NAMES, clock, ordinal, spoken_day


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # aware, business tz
    end: datetime  # aware, business tz (exclusive)
    label: str  # how to say it back: "tomorrow afternoon", "Thursday the 26th", "tomorrow at 2 PM"
    exact: bool = False  # caller named a precise time ("at two") -> prefer slots at/closest to start
    asap: bool = False  # "as soon as possible", "earliest", "today if you can"


@dataclass(frozen=True)
class Ambiguous:
    question: str  # "Do you mean this Friday, the 27th, or next Friday, December the 4th?"
    options: tuple[TimeWindow, ...]


@dataclass(frozen=True)
class InThePast:
    window: TimeWindow  # what they asked for (already gone)
    message: str  # honest answer, e.g. "2 PM today has already passed."


WhenResult = TimeWindow | Ambiguous | InThePast

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
_WEEKDAYS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_WEEKDAY_ABBREVIATIONS = {"mon": 0, "tues": 1, "tue": 1, "weds": 2, "thurs": 3, "thur": 3, "thu": 3, "fri": 4}
_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        (
            *("january", "february", "march", "april", "may", "june"),
            *("july", "august", "september", "october", "november", "december"),
        )
    )
}
_MONTH_ABBREVIATIONS = {
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
_MONTH_WORD = "|".join(sorted([*_MONTHS, *_MONTH_ABBREVIATIONS], key=len, reverse=True))
_WEEKDAY_WORD = "|".join(sorted([*_WEEKDAYS, *_WEEKDAY_ABBREVIATIONS], key=len, reverse=True))


# ---------------------------------------------------------------- normalising what was said

_NOT_A_DAY_WORDS = frozenset(
    {"floor", "story", "storey", "street", "st", "avenue", "ave", "place", "way", "unit", "apartment", "apt", "one"}
    | {"time", "option", "bathroom", "door", "house", "opinion", "thought", "thing", "available", "opening"}
)
# "this one", "the first one": "one" is a pronoun after these, not a number
_ONE_AS_A_WORD = frozenset({"this", "that", "the", "next", "any", "earliest", "first", "second", "last", "other"})
_ONE_AS_A_WORD |= {"later", "earlier", "sooner", "latter", "former", "which", "either", "no", "every"}
_PHRASE_REWRITES: list[tuple[str, str]] = [
    (r"[’`]", "'"),
    (r"\ba\.?\s?m\.?(?=\s|$|[,.!?])", "am"),
    (r"\bp\.?\s?m\.?(?=\s|$|[,.!?])", "pm"),
    (r"\bo'?\s?clock\b", "oclock"),
    (r"\b(tmrw|tmr|tomorow|tommorow|tommorrow|2morrow)\b", "tomorrow"),
    (r"\bto-?night\b", "tonight"),
    (r"\bno later than\b|\bnot after\b|\bnot later than\b", "before"),
    (r"\bno earlier than\b|\bnot before\b|\bnot earlier than\b", "after"),
    (r"\bno (rush|hurry|preference|particular time)\b", " "),
    (r"\bgood (morning|afternoon|evening|night|day)\b", " "),  # a greeting, not a time
    (r"\bwhenever\b", "any time"),
    (r"\banytime\b", "any time"),
    (r"\bmid-?day\b|\blunch ?time\b|\b12 noon\b|\btwelve noon\b", "noon"),
]
# A correction inside one sentence: "Wednesday, no, Thursday", "at two, sorry, three", "actually make it Friday".
_CORRECTION = re.compile(
    r"(?:^|[\s,.;!?-])(?:no no|no|nope|sorry|actually|i mean|i meant|wait|make it|make that|or rather|rather"
    r"|scratch that|change that to|correction)(?=[\s,.;!?]|$)"
)
# A street address is not a time: "I'm at 12 Oak St, tomorrow at 2" means 2 PM, not noon.
_STREET_ADDRESS = re.compile(
    r"\b\d+(?:st|nd|rd|th)? (?:(?!(?:to|on|at|in|by|and|or|for|from|till|until|pm|am)\b)[a-z0-9']+ ){1,3}?"
    r"(?:" + "|".join(STREET_TYPES) + r")\b"
)
# A day ruled out: "not Friday", "Wednesday doesn't work", "I can't do Monday".
_DAY_WORD = rf"(?:this |next |on )?(?:{_WEEKDAY_WORD}|today|tomorrow)"
_NEGATED_DAY = re.compile(
    rf"\bnot {_DAY_WORD}\b"
    rf"|\b{_DAY_WORD} (?:doesn't|does not|won't|will not|isn't|is not|wouldn't|would not|is no|is bad|is out)\b"
    rf"(?: work| good| great| possible| an option| going to work)?"
    rf"|\b(?:can't|cannot|can not|couldn't|not available|busy|out of town) (?:do |on |make )?{_DAY_WORD}\b"
    # when the trouble started is not when they want us: "leaking since Tuesday"
    rf"|\b(?:since|started|began|ever since) (?:last )?{_DAY_WORD}\b"
)


def _words_to_numbers(text: str) -> str:
    """Number words to numerals for times and dates: "two thirty" -> "2 30", "the fourteenth" -> "the 14th"."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        prev = out[-1] if out else ""
        if token in TENS and TENS[token] <= 50:
            value = TENS[token]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt in UNITS and UNITS[nxt] > 0 and nxt not in ("o", "oh"):
                out.append(str(value + UNITS[nxt]))
                i += 2
                continue
            if nxt in ORDINALS and ORDINALS[nxt] < 10:
                out.append(ordinal(value + ORDINALS[nxt]))
                i += 2
                continue
            out.append(str(value))
        elif token in TEENS:
            out.append(str(TEENS[token]))
        elif token in UNITS and token not in ("o", "oh", "nought") and not (token == "one" and prev in _ONE_AS_A_WORD):
            out.append(str(UNITS[token]))
        elif token in ("oh", "o") and prev.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in UNITS:
            # "twelve oh five" -> 12:05
            out[-1] = f"{prev}:0{UNITS[tokens[i + 1]]}"
            i += 2
            continue
        elif token == "thirtieth" or token == "twentieth":
            out.append(ordinal(ORDINALS[token]))
        elif (
            token in ORDINALS
            and (prev in ("the", "on") or prev in _MONTHS or prev in _MONTH_ABBREVIATIONS)
            and not (i + 1 < len(tokens) and tokens[i + 1] in _NOT_A_DAY_WORDS)
        ):
            out.append(ordinal(ORDINALS[token]))
        else:
            out.append(token)
        i += 1
    return " ".join(out)


_SPOKEN_DIGIT_WORDS = frozenset({*UNITS, *TEENS, *TENS, "double", "triple", "hundred", "thousand"})


def _drop_digit_runs(segment: str) -> str:
    """Remove four or more numbers in a row: a phone number or house number ("five oh three five five five ..."),
    which would otherwise read as a clock time."""
    tokens = segment.split()
    kept: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if token and (token.isdigit() or token in _SPOKEN_DIGIT_WORDS):
            run.append(token)
            continue
        if len(run) < 4:
            kept.extend(run)
        run = []
        if token:
            kept.append(token)
    return " ".join(kept)


def _normalise(text: str) -> str:
    text = text.lower()
    for pattern, replacement in _PHRASE_REWRITES:
        text = re.sub(pattern, replacement, text)
    return text


def _clean_segment(segment: str) -> str:
    segment = _NEGATED_DAY.sub(" ", segment)
    segment = re.sub(r"[^a-z0-9:/' ]+", " ", segment)
    segment = re.sub(r"\s+", " ", segment).strip()
    segment = _STREET_ADDRESS.sub(" ", _words_to_numbers(_drop_digit_runs(segment)))
    # "half past 10", "quarter to 4", "10 past 2", "quarter after 3"
    segment = re.sub(r"\b(?:a )?half past (\d{1,2})\b", lambda m: f"{m.group(1)}:30", segment)
    segment = re.sub(r"\b(?:a )?quarter (?:past|after) (\d{1,2})\b", lambda m: f"{m.group(1)}:15", segment)
    segment = re.sub(
        r"\b(?:a )?quarter (?:to|till|til|of|before) (\d{1,2})\b",
        lambda m: f"{(int(m.group(1)) - 2) % 12 + 1}:45",
        segment,
    )
    segment = re.sub(
        r"\b(5|10|20|25) (?:minutes )?(?:past|after) (\d{1,2})\b",
        lambda m: f"{m.group(2)}:{int(m.group(1)):02d}",
        segment,
    )
    segment = re.sub(
        r"(?<!from )(?<!between )\b(5|10|20|25) (?:minutes )?(?:to|till|til) (\d{1,2})\b",
        lambda m: f"{(int(m.group(2)) - 2) % 12 + 1}:{60 - int(m.group(1)):02d}",
        segment,
    )
    # "2 30" (from "two thirty"), "10 15"
    segment = re.sub(r"\b(\d{1,2}) ([0-5]\d)\b(?!\s*(?:st|nd|rd|th|minutes|mins|hours|days)\b)", r"\1:\2", segment)
    return segment


# ---------------------------------------------------------------- what one stretch of speech asks for


@dataclass
class _Spec:
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


def _merge(earlier: _Spec, later: _Spec) -> _Spec:
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


# Counts of things, not clock times or days: "for 2 days", "about 3 toilets", "the 2 of us".
_COUNTED = (
    r"(?:minute|min|hour|hr|day|week|month|year|time|people|person|bathroom|toilet|sink|inch|inche|foot|feet|gallon"
    r"|dollar|buck|percent|kid|dog|floor|room|unit|story|stories|of)s?\b"
)
# A said time; never the start of a longer number ("at 4410 Hawthorne"), an ordinal ("the 3rd") or a count.
_TIME = (
    r"(?:(noon|midnight)|(\d{1,2})(?::(\d{2}))?(?![\d:]|st\b|nd\b|rd\b|th\b)(?!\s*" + _COUNTED + r")"
    r"\s*(am|pm|oclock)?)"
)
# Ordinals that are floors and streets, not days of the month ("the 2nd floor", "3rd avenue").
_NOT_A_DAY = (
    r"(?! (?:floor|story|storey|street|st|avenue|ave|av|place|pl|way|unit|apartment|apt|bathroom|door)\b)"
    r"(?! " + _COUNTED + ")"
)
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


def _meridiem_hour(hour: int, suffix: str | None, context: str | None) -> int | None:
    """24-hour clock for a said hour: explicit am/pm wins, then "in the morning"/"evening"; else trades hours."""
    if hour > 23:
        return None
    if hour > 12 or hour == 0:
        return hour
    if suffix == "am":
        return 0 if hour == 12 else hour
    if suffix == "pm" or context in ("afternoon", "evening"):
        return 12 if hour == 12 else hour + 12
    if context == "morning":
        return hour if hour != 12 else 12
    # No am/pm: 1-6 is afternoon (no one books a plumber for 3 AM), 7-11 is morning, 12 is noon.
    return hour + 12 if 1 <= hour <= 6 else hour


def _time_minutes(groups: tuple[str | None, ...], context: str | None) -> int | None:
    word, hour, minute, suffix = groups
    if word == "noon":
        return 12 * 60
    if word == "midnight":
        return 0
    if hour is None:
        return None
    h24 = _meridiem_hour(int(hour), suffix, context)
    mins = int(minute) if minute else 0
    if h24 is None or mins > 59:
        return None
    return h24 * 60 + mins


def _part_context(segment: str) -> str | None:
    if re.search(r"\bmornings?\b", segment):
        return "morning"
    if re.search(r"\bafternoons?\b", segment):
        return "afternoon"
    if re.search(r"\b(?:evenings?|tonight|nights?)\b", segment):
        return "evening"
    return None


def _next_weekday(today: date, weekday: int, *, include_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def _monday(day: date) -> date:
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


def _read_days(segment: str, spec: _Spec, today: date, now: datetime) -> None:
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
    month_day = re.search(rf"\b({_MONTH_WORD})\.? (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?(?: (\d{{4}}))?\b", segment)
    day_month = re.search(rf"\b(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_WORD})\b(?: (\d{{4}}))?", segment)
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

    month_only = re.search(rf"\b(?:in|during|of|sometime in|some time in) ({_MONTH_WORD})\b", segment)
    if month_only:
        month = _MONTHS.get(month_only.group(1)) or _MONTH_ABBREVIATIONS[month_only.group(1)]
        year = today.year if month >= today.month else today.year + 1
        first = date(year, month, 1)
        ny, nm = _add_months(year, month, 1)
        spec.days = (max(first, today), date(ny, nm, 1))
        spec.span_label = f"in {first:%B}"
        return

    weekday_match = re.search(
        rf"\b(?:(this coming|this|next|coming|a week from|last|on)\s+)?({_WEEKDAY_WORD})s?\b(\s+after next)?"
        rf"(\s+(?:of\s+)?(?:next|this) week)?",
        segment,
    )
    week_first = re.search(rf"\b(next|this) week (?:on )?({_WEEKDAY_WORD})\b", segment)
    if week_first:
        weekday = _weekday_index(week_first.group(2))
        monday = _monday(today) + timedelta(days=7 if week_first.group(1) == "next" else 0)
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
            spec.span_label = f"the weekend of {_month_day(first, today)}"
        else:
            spec.choices = (
                (saturday, saturday + timedelta(days=2), f"this weekend, {_month_day(saturday, today)}"),
                (
                    saturday + timedelta(days=7),
                    saturday + timedelta(days=9),
                    f"the weekend after, {_month_day(saturday + timedelta(days=7), today)}",
                ),
            )
        return
    if re.search(r"\b(?:this|the|this coming|on the|over the) weekend\b|^weekends?\b|\bweekends\b", segment):
        saturday = today - timedelta(days=1) if today.weekday() == 6 else _next_weekday(today, 5, include_today=True)
        spec.days = (max(saturday, today), saturday + timedelta(days=2))
        spec.span_label = "this weekend"
        return
    if re.search(r"\bweek after next\b", segment):
        monday = _monday(today) + timedelta(days=14)
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = f"the week of {_month_day(monday, today)}"
        return
    if re.search(r"\bnext week\b", segment):
        monday = _monday(today) + timedelta(days=7)
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = "next week"
        return
    if re.search(r"\bend of (?:the|this) week\b|\blater in the week\b", segment):
        thursday = _monday(today) + timedelta(days=3 + (7 if today.weekday() >= 5 else 0))
        spec.days = (max(thursday, today), thursday + timedelta(days=2))
        spec.span_label = "at the end of the week"
        return
    if re.search(r"\b(?:this|the rest of the) week\b|\blater this week\b", segment):
        spec.days = (today, _monday(today) + timedelta(days=7))
        spec.span_label = "this week"
        return


def _check_weekday_agrees(segment: str, spec: _Spec, found: date, today: date) -> None:
    """ "Tuesday the 2nd" when the 2nd is a Wednesday: ask which they meant rather than guess."""
    said = re.search(rf"\b({_WEEKDAY_WORD})\b", segment)
    if not said or _weekday_index(said.group(1)) == found.weekday():
        return
    offset = (_weekday_index(said.group(1)) - found.weekday() + 3) % 7 - 3  # the nearest such weekday
    named = found + timedelta(days=offset)
    if named < today:
        named += timedelta(days=7)
    first, second = sorted((found, named))
    spec.day = None
    spec.choices = tuple((d, d + timedelta(days=1), _weekday_date(d, today)) for d in (first, second))


def _weekday_date(day: date, today: date) -> str:
    """ "Tuesday the 1st" this month, "Tuesday, December the 1st" otherwise."""
    month_day = _month_day(day, today)
    separator = " " if month_day.startswith("the ") else ", "
    return f"{DAY_NAMES[day.weekday()]}{separator}{month_day}"


def _weekday_index(word: str) -> int:
    return _WEEKDAYS.get(word, _WEEKDAY_ABBREVIATIONS.get(word, 0))


def _month_day(day: date, today: date) -> str:
    """ "the 27th" within this month, "December the 4th" otherwise."""
    if day.month == today.month and day.year == today.year:
        return f"the {ordinal(day.day)}"
    return f"{day:%B} the {ordinal(day.day)}"


def _set_day_in_week(spec: _Spec, day: date, today: date) -> None:
    if day < today:
        spec.past_label = f"{DAY_NAMES[day.weekday()]} this week"
    spec.day = day


def _read_weekday(match: re.Match[str], spec: _Spec, today: date) -> None:
    qualifier, word, after_next, which_week = match.groups()
    weekday = _weekday_index(word)
    name = DAY_NAMES[weekday]
    if which_week:
        monday = _monday(today) + timedelta(days=7 if "next" in which_week else 0)
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
        in_next_week = _monday(today) + timedelta(days=7 + weekday)
        if upcoming == in_next_week:
            spec.day = upcoming
        else:
            # "next Friday" said on a Wednesday: this Friday, or the one in next week? Ask.
            spec.choices = (
                (upcoming, upcoming + timedelta(days=1), f"this {name}, {_month_day(upcoming, today)}"),
                (
                    in_next_week,
                    in_next_week + timedelta(days=1),
                    f"next {name}, {_month_day(in_next_week, today)}",
                ),
            )
    else:
        spec.day = _next_weekday(today, weekday, include_today=True)
        spec.same_weekday = spec.day == today


def _read_times(segment: str, spec: _Spec, now: datetime) -> None:
    context = _part_context(segment)
    between = re.search(rf"\b(?:between|from) {_TIME} (?:and|to|till|til|until) {_TIME}", segment)
    if between:
        end = _time_minutes(between.groups()[4:8], context)
        first_groups = between.groups()[0:4]
        start = _time_minutes(first_groups, context)
        if start is not None and end is not None and end <= start:
            # the trades reading of one end made the range run backwards: read it the other way
            if between.group(8) is None and end < 12 * 60 and end + 12 * 60 > start:
                end += 12 * 60  # "between 6 and 8": 6 PM to 8 PM
            elif first_groups[3] is None and start >= 12 * 60 and start - 12 * 60 < end:
                start -= 12 * 60
        if start is not None and end is not None:
            if end > start:
                spec.after, spec.before = start, end
                return
    after = re.search(
        rf"\b(?:after|any time after|anytime after|later than|starting at|starting from|from) {_TIME}", segment
    )
    before = re.search(rf"\b(?:before|by|until|till|til|earlier than) {_TIME}", segment)
    if re.search(r"\bafter lunch\b", segment):
        spec.after = 13 * 60
    if re.search(r"\bbefore lunch\b", segment):
        spec.before = 12 * 60
    if after:
        spec.after = _time_minutes(after.groups(), context)
    if before:
        spec.before = _time_minutes(before.groups(), context)
    if after or before or spec.after is not None or spec.before is not None:
        if spec.after is not None and spec.before is not None and spec.before <= spec.after:
            spec.before = None
        spec.part = context if re.search(r"\b(morning|afternoon|evening|tonight|night)\b", segment) else None
        return
    exact = re.search(rf"\b(?:at|around|about|for|say|like|maybe|approximately|round) {_TIME}", segment)
    exact_groups: tuple[str | None, ...] | None = None
    if exact and (exact.group(1) or exact.group(2)):
        exact_groups = exact.groups()
    else:
        standalone = re.search(
            r"\b(noon|midnight)\b|\b(\d{1,2})(?::(\d{2}))\s*(am|pm|oclock)?|\b(\d{1,2})()\s*(am|pm|oclock)\b", segment
        )
        if standalone:
            if standalone.group(1):
                exact_groups = (standalone.group(1), None, None, None)
            elif standalone.group(2):
                exact_groups = (None, standalone.group(2), standalone.group(3), standalone.group(4))
            else:
                exact_groups = (None, standalone.group(5), None, standalone.group(7))
    bare = re.fullmatch(r"(?:at |about |around )?(\d{1,2})(?::(\d{2}))?", segment)
    if exact_groups is None and bare:
        # a number on its own is an hour ("tomorrow at 10, no, 11"; "what time?" "2")
        exact_groups = (None, bare.group(1), bare.group(2), None)
    if exact_groups:
        minutes = _time_minutes(exact_groups, context)
        if minutes is not None:
            spec.exact = minutes
            return
    if context:
        spec.part = context


def _read_segment(segment: str, today: date, now: datetime) -> _Spec:
    spec = _Spec()
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
    _read_days(segment, spec, today, now)
    _read_times(segment, spec, now)
    return spec


# How far ahead "in N units" may reach; beyond this it is not a booking request.
_RELATIVE_LIMITS = {"hour": 72, "minute": 600, "day": 366, "week": 52}


def _read_relative(match: re.Match[str], spec: _Spec, today: date, now: datetime) -> None:
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
        monday = _monday(today + timedelta(days=round(amount * 7)))
        spec.days = (monday, monday + timedelta(days=7))
        spec.span_label = f"the week of {_month_day(monday, today)}"


def _round_up_five(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta()
    )
    return moment + timedelta(minutes=(-moment.minute) % 5)


# ---------------------------------------------------------------- building windows


def _wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """A local wall time on a day, zone attached; a time skipped by spring-forward moves to the real instant."""
    extra_days, minutes = divmod(minutes, 24 * 60)
    local = datetime.combine(day + timedelta(days=extra_days), time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz)


def _before(a: datetime, b: datetime) -> bool:
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


def _day_range(spec: _Spec) -> tuple[int, int, str | None]:
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


def _day_window(day: date, spec: _Spec, today: date, tz: ZoneInfo) -> TimeWindow:
    start_min, end_min, range_words = _day_range(spec)
    start, end = _wall(day, start_min, tz), _wall(day, end_min, tz)
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


def _clip(window: TimeWindow, now: datetime, past_message: str | None = None) -> TimeWindow | InThePast:
    """Cut off the part of a window already gone; a window wholly gone (or a precise time gone) is InThePast."""
    gone = not _before(now, window.end) or (window.exact and _before(window.start, now))
    if gone:
        return InThePast(window=window, message=past_message or _past_message(window, now))
    if _before(window.start, now):
        return replace(window, start=now)
    return window


def _past_message(window: TimeWindow, now: datetime) -> str:
    label = window.label
    if window.exact and window.start.date() == now.date():
        label = f"{clock(window.start)} today"
    return f"{label[:1].upper()}{label[1:]} has already passed."


def _asap_window(now: datetime, today: date, tz: ZoneInfo, label: str) -> TimeWindow:
    return TimeWindow(start=now, end=_wall(today + timedelta(days=ASAP_DAYS), 0, tz), label=label, asap=True)


def understand_when(text: str, now: datetime, tz: ZoneInfo) -> WhenResult | None:
    """Resolve what the caller said about time into a window in the business timezone; None if they said none.

    Windows never start before `now` (a window partly gone is cut at `now`). A precise time ("tomorrow at
    two") starts at that time and runs to the end of its day, so slots at or just after it come first. A
    day is a whole local day, a part of the day uses MORNING / AFTERNOON / EVENING, "as soon as possible"
    runs from now for ASAP_DAYS days. Both readings of "next Friday" said on a Wednesday come back as an
    Ambiguous with the question to ask; a time already gone comes back as InThePast.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz)
    today = local_now.date()
    # days ruled out go before splitting at corrections, so "Wednesday is no good" is not read as a correction
    normalised = _NEGATED_DAY.sub(" ", _STREET_ADDRESS.sub(" ", _normalise(text)))
    spec = _Spec()
    found = False
    for segment in _CORRECTION.split(normalised):
        piece = _read_segment(_clean_segment(segment), today, local_now)
        if piece.found():
            spec = _merge(spec, piece) if found else piece
            found = True
    if not found:
        return None
    return _resolve(spec, local_now, today, tz)


def _resolve(spec: _Spec, now: datetime, today: date, tz: ZoneInfo) -> WhenResult:
    if spec.at is not None:
        at = spec.at.astimezone(tz)
        end_day = at.date() + timedelta(days=1)
        return TimeWindow(
            start=at, end=_wall(end_day, 0, tz), label=f"{spoken_day(at.date(), today)} at {clock(at)}", exact=True
        )
    if spec.past_label and spec.day is not None:
        window = _day_window(spec.day, spec, today, tz)
        label = spec.past_label
        return InThePast(
            window=replace(window, label=label), message=f"{label[:1].upper()}{label[1:]} has already passed."
        )
    if spec.choices:
        return _ambiguous(spec, now, today, tz)
    if spec.days:
        first, last = spec.days
        if spec.has_time() and last - first == timedelta(days=1):
            return _clip(_day_window(first, spec, today, tz), now)
        window = TimeWindow(
            start=_wall(first, 0, tz), end=_wall(last, 0, tz), label=spec.span_label or "", asap=spec.asap
        )
        return _clip(window, now)
    if spec.asap and (spec.day is None or spec.flexible_today) and not spec.has_time():
        label = "as soon as possible, today if we can" if spec.flexible_today else "as soon as possible"
        return _asap_window(now, today, tz, label)
    if spec.any_time and spec.day is None and not spec.has_time():
        return _asap_window(now, today, tz, "as soon as possible")  # "whenever", "any time works"
    day = spec.day if spec.day is not None else today
    window = _day_window(day, spec, today, tz)
    if spec.day is None and spec.part and not _before(now, window.end):
        # "in the morning" said once this morning is over means tomorrow morning
        day = today + timedelta(days=1)
        window = _day_window(day, spec, today, tz)
    if spec.same_weekday:
        later = _day_window(day + timedelta(days=7), spec, today, tz)
        clipped = _clip(window, now)
        if isinstance(clipped, InThePast):
            return later
        name = DAY_NAMES[day.weekday()]
        return Ambiguous(
            question=f"Do you mean today, or next {name}, {_month_day(later.start.date(), today)}?",
            options=(clipped, later),
        )
    return _clip(window, now)


def _ambiguous(spec: _Spec, now: datetime, today: date, tz: ZoneInfo) -> WhenResult:
    options: list[TimeWindow] = []
    descriptions: list[str] = []
    for first, last, description in spec.choices:
        if last - first == timedelta(days=1):
            window = _day_window(first, spec, today, tz)
        else:
            window = TimeWindow(
                start=_wall(first, 0, tz), end=_wall(last, 0, tz), label=f"the weekend of {_month_day(first, today)}"
            )
        clipped = _clip(window, now)
        if isinstance(clipped, TimeWindow):
            options.append(clipped)
            descriptions.append(description)
    if len(options) == 1:
        return options[0]
    if not options:
        return _clip(_day_window(spec.choices[-1][0], spec, today, tz), now)
    return Ambiguous(question=f"Do you mean {descriptions[0]}, or {descriptions[1]}?", options=tuple(options))


# ---------------------------------------------------------------- answering "this Friday or next?"

_FIRST_CHOICE = re.compile(
    r"\b(this|first|former|earlier|sooner|soonest|earliest|closer|nearer|coming|this week|this one|today|that one)\b"
)
_SECOND_CHOICE = re.compile(
    r"\b(next|second|latter|later|after|following|next week|next one|the other|last one|further|farther)\b"
)


def resolve_choice(text: str, ambiguous: Ambiguous) -> TimeWindow | None:
    """Which option the caller picked: "this one", "next", "the 4th", "December 4th"; None if unclear."""
    said = _clean_segment(_normalise(text))
    if not said:
        return None
    # A day of the month names one option outright.
    for match in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)\b|\bthe (\d{1,2})\b", said):
        day_number = match.group(1) or match.group(2)
        picked = [o for o in ambiguous.options if o.start.day == int(day_number)]
        if len(picked) == 1 and not re.search(rf"\bnot (?:the )?{day_number}", said):
            return picked[0]
        ordinal_position = re.fullmatch(r"(?:the )?([12])(?:st|nd)(?: one)?", said)
        if not picked and ordinal_position and int(ordinal_position.group(1)) <= len(ambiguous.options):
            # "the second" when neither option falls on the 2nd: the second option
            return ambiguous.options[int(ordinal_position.group(1)) - 1]
    for match in re.finditer(rf"\b({_WEEKDAY_WORD})\b", said):
        weekday = _weekday_index(match.group(1))
        picked = [o for o in ambiguous.options if o.start.weekday() == weekday]
        if len(picked) == 1:
            return picked[0]
    for option in ambiguous.options:
        month = f"{option.start:%B}".lower()
        if re.search(rf"\b{month}\b", said) and sum(f"{o.start:%B}".lower() == month for o in ambiguous.options) == 1:
            return option
    last = len(ambiguous.options) - 1
    picks: list[tuple[int, int]] = []
    for pattern, index in ((_FIRST_CHOICE, 0), (_SECOND_CHOICE, last)):
        for match in pattern.finditer(said):
            if said[: match.start()].rstrip().endswith("not"):
                # "not this one" picks the other of two; with more options it says nothing
                if last == 1:
                    picks.append((match.start(), 1 - index))
                continue
            picks.append((match.start(), index))
    if not picks:
        return None
    choices = {index for _, index in picks}
    if len(choices) > 1:
        # "not this one, the next": the last thing said wins
        return ambiguous.options[max(picks)[1]]
    return ambiguous.options[picks[0][1]]
