"""Moving a booking: which time names the booking and which is the new one ("move my Thursday appointment to
Friday at 10"), and moves said relative to the booking ("push it back a day", "an hour earlier", "same time
next Tuesday", "later in the day")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from silentpartner.conversation.when.results import WhenResult
from silentpartner.conversation.when.understand import understand_when

# Where the caller names the booking they have: "my Thursday appointment", "tomorrow's visit", "I'm booked
# for Wednesday", "you're coming Thursday morning".
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|today|tonight"
_BOOKING = re.compile(
    rf"\b(?:my|our|the|this|that|an?|(?:{_DAY})'?s)\s+(?:\w+\s+){{0,2}}?(?:appointment|appt|booking|visit|service call)"
    rf"(?:\s+(?:on|for|this|next)?\s*(?:{_DAY})(?:\s+(?:morning|afternoon|evening))?)?"
    rf"|\b(?:booked|scheduled|down)\s+for\s+(?:{_DAY})(?:\s+(?:morning|afternoon|evening))?"
    rf"|\b(?:coming|due)\s+(?:on\s+)?(?:{_DAY})(?:\s+(?:morning|afternoon|evening))?",
    re.IGNORECASE,
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "couple of": 2, "couple": 2, "few": 3}
_SHIFT = re.compile(
    r"\b(?:(?:push|move|bump|put)\s+(?:it|that|the\s+\w+|my\s+\w+)\s+(back|forward|up|out)\s+(?:by\s+)?"
    r"(a|an|one|two|three|\d+)\s+(day|hour|week)s?"
    r"|(a|an|one|two|three|\d+|a couple of|a few)\s+(day|hour|week)s?\s+(later|earlier|sooner))\b",
    re.IGNORECASE,
)
_SAME_TIME = re.compile(r"\bsame time\b", re.IGNORECASE)
_LATER_SAME_DAY = re.compile(
    r"\blater (?:in the day|that day|the same day|on|that afternoon|in the afternoon)\b"
    r"|\b(?:come|it) later\b(?!.*\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MoveWords:
    new: WhenResult | None  # the time asked for
    booking_day: WhenResult | None  # the day that names the booking being moved
    shift: timedelta | None = None  # "push it back a day": move by this much, same time of day
    same_time: bool = False  # "same time next Tuesday"
    later_same_day: bool = False  # "can you come later in the day?"


def read_move(text: str, now: datetime, tz: ZoneInfo) -> MoveWords:
    """The parts of a request to move a booking, read in the business timezone."""
    booking = _BOOKING.search(text)
    if booking is not None:
        new_when = understand_when(text[booking.end() :], now, tz)
        booking_day = understand_when(booking.group(0), now, tz)
    else:
        new_when, booking_day = understand_when(text, now, tz), None
    return MoveWords(
        new=new_when,
        booking_day=booking_day,
        shift=_shift(text),
        same_time=bool(_SAME_TIME.search(text)),
        later_same_day=bool(_LATER_SAME_DAY.search(text)),
    )


def _shift(text: str) -> timedelta | None:
    match = _SHIFT.search(text)
    if match is None:
        return None
    direction, amount, unit = match.group(1), match.group(2), match.group(3)
    if direction is None:
        amount, unit, direction = match.group(4), match.group(5), match.group(6)
    count = _WORD_NUMBERS.get(amount.lower(), None) if not amount.isdigit() else int(amount)
    if count is None:
        return None
    step = {"day": timedelta(days=1), "hour": timedelta(hours=1), "week": timedelta(weeks=1)}[unit.lower()]
    sign = -1 if direction.lower() in ("forward", "up", "earlier", "sooner") else 1
    return step * count * sign
