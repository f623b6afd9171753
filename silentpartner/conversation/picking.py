"""Which of the things just offered the caller picked: "the first one", "2 PM", "Thursday", "the 9:30", "the
estimate". Pure functions over the offered slots (or the caller's bookings), the business timezone and today."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from silentpartner.conversation.spoken.yes_no import is_yes
from silentpartner.speech_text import DAY_NAMES

ORDINAL_PICKS = (
    (0, r"\b(first|1st (one|option)|earliest|earlier|the early one|number one|option one|the one)\b"),
    (1, r"\b(second|2nd (one|option)|middle|number two|option two)\b"),
    (2, r"\b(third|3rd (one|option)|number three|option three)\b"),
    (-1, r"\b(last|latest|later one|the late one|final one)\b"),
)

_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45, "o'clock": 0, "half": 30}
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?!\s*(?:st|nd|rd|th)\b)(?![\d/])", re.I)

# An hour said in words counts when it is clearly a time: "at two", "two thirty", "ten o'clock", "nine am";
# "the Tuesday one" and "one of those" are not one o'clock.
_WORD_CLOCK = re.compile(
    r"(?:\b(?:at|around|about|say|by|maybe|like)\s+)?\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(?:\s+(fifteen|thirty|forty[ -]five|o'clock))?(?:\s*(a\.?m\.?|p\.?m\.?|in the morning|in the afternoon))?\b",
    re.I,
)
_WORD_CLOCK_LEAD = re.compile(r"^(?:at|around|about|say|by|maybe|like)\s", re.I)


class Timed(Protocol):
    """An offered slot or a known booking: something with an id-like key and a start."""

    @property
    def start(self) -> datetime: ...


def ordinal_pick(text: str) -> int | None:
    """0, 1, 2 or -1 for "the first", "the second", "the third", "the last"; None if none was said."""
    lowered = text.lower()
    for index, pattern in ORDINAL_PICKS:
        if re.search(pattern, lowered):
            return index
    return None


def mentions_day(lowered: str, start: datetime, tz: ZoneInfo, today: date) -> bool:
    local = start.astimezone(tz)
    if "today" in lowered and local.date() == today:
        return True
    if "tomorrow" in lowered and local.date() == today + timedelta(days=1):
        return True
    return DAY_NAMES[local.weekday()].lower() in lowered


def mentions_any_day(lowered: str) -> bool:
    return any(d.lower() in lowered for d in DAY_NAMES) or "today" in lowered or "tomorrow" in lowered


def times_in(text: str) -> list[tuple[int, int | None, str | None]]:
    """Clock times said: (hour, minute or None, "am"/"pm" or None)."""
    found: list[tuple[int, int | None, str | None]] = []
    for m in _CLOCK.finditer(text):
        hour = int(m.group(1))
        if 1 <= hour <= 23:
            ampm = (m.group(3) or "").lower().replace(".", "") or None
            found.append((hour, int(m.group(2)) if m.group(2) else None, ampm))
    for m in _WORD_CLOCK.finditer(text):
        if not (_WORD_CLOCK_LEAD.match(m.group(0)) or m.group(2) or m.group(3) or text.strip().lower() == m.group(1)):
            continue
        hour = _HOUR_WORDS[m.group(1).lower()]
        minute = _MINUTE_WORDS.get((m.group(2) or "").lower().replace("-", " "))
        suffix = (m.group(3) or "").lower()
        ampm = "am" if "morning" in suffix or suffix.startswith("a") else "pm" if suffix else None
        found.append((hour, minute, ampm))
    if re.search(r"\bnoon\b", text, re.I):
        found.append((12, 0, "pm"))
    return found


def pick_offered(text: str, offer: Sequence[Timed], tz: ZoneInfo, today: date) -> int | None:
    """The index in `offer` of the slot the caller picked, or None when the words don't single one out."""
    if not offer:
        return None
    lowered = text.lower()
    index = ordinal_pick(text)
    if index is not None and index < len(offer):
        return index if index >= 0 else len(offer) - 1
    candidates = list(range(len(offer)))
    named_day = mentions_any_day(lowered)
    if named_day:
        candidates = [i for i in candidates if mentions_day(lowered, offer[i].start, tz, today)]
    times = times_in(text)
    if times:
        timed = []
        for i in candidates:
            local = offer[i].start.astimezone(tz)
            for hour, minute, ampm in times:
                h12 = local.hour % 12 or 12
                hour_ok = hour == local.hour or (hour <= 12 and hour == h12)
                # "10" is ten o'clock: it picks a 10:00 offer, not 10:30 (that is a new time to look for)
                minute_ok = minute == local.minute if minute is not None else local.minute == 0
                ampm_ok = ampm is None or (ampm == "am") == (local.hour < 12)
                if hour_ok and minute_ok and ampm_ok:
                    timed.append(i)
                    break
        candidates = timed
    if (times or named_day) and len(candidates) == 1:
        return candidates[0]
    if not times and not named_day and len(offer) == 1 and is_yes(text):
        return 0
    return None


def on_offered_day(text: str, offer: Sequence[Timed], tz: ZoneInfo, today: date) -> str:
    """ "noon" or "10 works" after "Saturday at 9, 11 or 1" means Saturday at that time: the words, rewritten
    with the offered day and an explicit time ("November 28 at 10"), for the time reader."""
    lowered = text.lower()
    times = times_in(text)
    if not times:
        return text
    if mentions_any_day(lowered) or re.search(r"\b(next|week|\d+(st|nd|rd|th))\b", lowered):
        return text
    days = {o.start.astimezone(tz).date() for o in offer}
    if len(days) != 1:
        return text
    day = days.pop()
    hour, minute, ampm = times[0]
    said = f"{hour}:{minute:02d}" if minute is not None else str(hour)
    said += f" {ampm}" if ampm else ""
    return f"{'today' if day == today else f'{day:%B} {day.day}'} at {said}"
