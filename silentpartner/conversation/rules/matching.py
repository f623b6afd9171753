"""Matching what the caller said against the slots just offered: "the first one", "2 PM", "Thursday"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from silentpartner.conversation.spoken.yes_no import is_yes
from silentpartner.speech_text import DAY_NAMES

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


ORDINAL_PICKS = (
    (0, r"\b(first|1st (one|option)|earliest|earlier|the early one|number one|option one)\b"),
    (1, r"\b(second|2nd (one|option)|middle|number two|option two)\b"),
    (2, r"\b(third|3rd (one|option)|number three|option three)\b"),
    (-1, r"\b(last|latest|later one|the late one)\b"),
)

_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45, "o'clock": 0, "half": 30}
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?!\s*(?:st|nd|rd|th)\b)(?![\d/])", re.I)

_WORD_CLOCK = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s+(fifteen|thirty|forty[ -]five|o'clock))?"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|in the morning|in the afternoon))?\b",
    re.I,
)


def on_offered_day(e: Engine, text: str) -> str:
    """ "noon" after "Saturday at 9, 10 or 11" means Saturday at noon, not today."""
    lowered = text.lower()
    if not times_in(text):
        return text
    if any(d.lower() in lowered for d in DAY_NAMES) or re.search(
        r"\b(today|tomorrow|next|week|\d+(st|nd|rd|th))\b", lowered
    ):
        return text
    offered = [e.state.offered[i] for i in e.state.last_offer if i in e.state.offered]
    days = {datetime.fromisoformat(o.start).astimezone(e.business.tz).date() for o in offered}
    if len(days) != 1:
        return text
    day = days.pop()
    if day == e.now_local().date():
        return text
    return f"{day:%B} {day.day} {text}"


def mentions_day(e: Engine, lowered: str, start_iso: str) -> bool:
    start = datetime.fromisoformat(start_iso).astimezone(e.business.tz)
    today = e.now_local().date()
    if "today" in lowered and start.date() == today:
        return True
    if "tomorrow" in lowered and start.date() == today + timedelta(days=1):
        return True
    return DAY_NAMES[start.weekday()].lower() in lowered


def times_in(text: str) -> list[tuple[int, int | None, str | None]]:
    found: list[tuple[int, int | None, str | None]] = []
    for m in _CLOCK.finditer(text):
        hour = int(m.group(1))
        if 1 <= hour <= 23:
            ampm = (m.group(3) or "").lower().replace(".", "") or None
            found.append((hour, int(m.group(2)) if m.group(2) else None, ampm))
    for m in _WORD_CLOCK.finditer(text):
        hour = _HOUR_WORDS[m.group(1).lower()]
        minute = _MINUTE_WORDS.get((m.group(2) or "").lower().replace("-", " "))
        suffix = (m.group(3) or "").lower()
        ampm = "am" if "morning" in suffix or suffix.startswith("a") else "pm" if suffix else None
        found.append((hour, minute, ampm))
    if re.search(r"\bnoon\b", text, re.I):
        found.append((12, 0, "pm"))
    return found


def match_offer(e: Engine, text: str) -> str | None:
    """Which of the slots just offered the caller picked: "the first one", "2 PM", "Thursday", "the 9:30"."""
    s = e.state
    offer = [s.offered[i] for i in s.last_offer if i in s.offered]
    if not offer:
        return None
    lowered = text.lower()
    for index, pattern in ORDINAL_PICKS:
        if re.search(pattern, lowered):
            if index < len(offer):
                return offer[index].id
    candidates = offer
    day_matches = [o for o in offer if mentions_day(e, lowered, o.start)]
    mentions_any_day = any(d.lower() in lowered for d in DAY_NAMES) or "today" in lowered or "tomorrow" in lowered
    if mentions_any_day:
        candidates = day_matches
    times = times_in(text)
    if times:
        timed = []
        for o in candidates:
            local = datetime.fromisoformat(o.start).astimezone(e.business.tz)
            for hour, minute, ampm in times:
                h12 = local.hour % 12 or 12
                hour_ok = hour == local.hour or (hour <= 12 and hour == h12)
                minute_ok = minute is None or minute == local.minute
                ampm_ok = ampm is None or (ampm == "am") == (local.hour < 12)
                if hour_ok and minute_ok and ampm_ok:
                    timed.append(o)
                    break
        candidates = timed
    if (times or mentions_any_day) and len(candidates) == 1:
        return candidates[0].id
    if not times and not mentions_any_day and len(offer) == 1 and is_yes(text):
        return offer[0].id
    return None
