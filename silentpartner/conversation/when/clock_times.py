"""Clock times in what was said: "at two", "2:30", "between 6 and 8", "after lunch", and which half of
the day a bare hour means.
"""

from __future__ import annotations

import re
from datetime import datetime

from silentpartner.conversation.when.spec import Spec

# Counts of things, not clock times or days: "for 2 days", "about 3 toilets", "the 2 of us".
COUNTED = (
    r"(?:minute|min|hour|hr|day|week|month|year|time|people|person|bathroom|toilet|sink|inch|inche|foot|feet|gallon"
    r"|dollar|buck|percent|kid|dog|floor|room|unit|story|stories|of)s?\b"
)

# A said time; never the start of a longer number ("at 4410 Hawthorne"), an ordinal ("the 3rd") or a count.
_TIME = (
    r"(?:(noon|midnight)|(\d{1,2})(?::(\d{2}))?(?![\d:]|st\b|nd\b|rd\b|th\b)(?!\s*" + COUNTED + r")"
    r"\s*(am|pm|oclock)?(?![a-z]))"
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


def read_times(segment: str, spec: Spec, now: datetime) -> None:
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
            r"\b(noon|midnight)\b|\b(\d{1,2})(?::(\d{2}))\s*(am|pm|oclock)?(?![a-z])|\b(\d{1,2})()\s*(am|pm|oclock)\b",
            segment,
        )
        if standalone:
            if standalone.group(1):
                exact_groups = (standalone.group(1), None, None, None)
            elif standalone.group(2):
                exact_groups = (None, standalone.group(2), standalone.group(3), standalone.group(4))
            else:
                exact_groups = (None, standalone.group(5), None, standalone.group(7))
    part_of_day = re.search(r"\b(\d{1,2})(?::(\d{2}))? (?:in the|this) (?:morning|afternoon|evening)\b", segment)
    if exact_groups is None and part_of_day:
        # "2 in the afternoon": an hour with the part of the day it is in
        exact_groups = (None, part_of_day.group(1), part_of_day.group(2), None)
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
