"""One turn from the owner (or a team member), read once: what they ask or want changed, the job they mean,
the day it is on, the new time for a move, minutes late, and a stretch of time to block or reopen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from silentpartner.conversation.lexicon import plain
from silentpartner.conversation.owner_lexicon import JobRef, OwnerIntent, job_ref, minutes_late, owner_intents
from silentpartner.conversation.when import Alternatives, InThePast, TimeWindow, understand_when

# Where the job ends and the new time begins: "move the 2pm | to Friday morning" (not "need to move the 2pm").
_TO = re.compile(
    r"\b(?:move|moving|push|shift|bump|reschedule|switch|change)\b.*?\b(?:to|till|until|for|instead|over to)\b",
    re.IGNORECASE,
)
_WHOLE_BUSINESS = re.compile(r"\b(close|closed|shut|no (?:jobs|bookings|appointments)|nobody|no one|everyone)\b")


@dataclass(frozen=True)
class OwnerReading:
    intents: frozenset[OwnerIntent]
    job: JobRef | None  # "the 2pm"
    day: date | None  # the day the job is on, or the day asked about ("what's on Thursday")
    days: tuple[date, date] | None  # a stretch of days asked about ("next week"): [first, last)
    new_time: tuple[TimeWindow, ...]  # where a job moves to ("to Friday morning")
    window: TimeWindow | None  # time to block or reopen ("Friday afternoon")
    late_minutes: int | None
    whole_business: bool  # "close Friday" / "no bookings Friday" (not just my own time)

    def has(self, *intents: OwnerIntent) -> bool:
        return any(i in self.intents for i in intents)


def read_owner(text: str, now: datetime, tz: ZoneInfo) -> OwnerReading:
    intents = owner_intents(text)
    job = job_ref(text)
    moving = OwnerIntent.MOVE in intents
    split = _TO.search(text) if moving else None
    about, to = (text[: split.end()], text[split.end() :]) if split else (text, "")
    day, days = _day(about, now, tz, clock_time=job is not None)
    new_time: tuple[TimeWindow, ...] = ()
    if to:
        found = understand_when(to, now, tz)
        if isinstance(found, TimeWindow):
            new_time = (found,)
        elif isinstance(found, Alternatives):
            new_time = found.options
    window = None
    if intents & {OwnerIntent.BLOCK, OwnerIntent.REOPEN}:
        found = understand_when(text, now, tz)
        window = found if isinstance(found, TimeWindow) else None
    return OwnerReading(
        intents=frozenset(intents),
        job=job,
        day=day,
        days=days,
        new_time=new_time,
        window=window,
        late_minutes=minutes_late(text),
        whole_business=bool(_WHOLE_BUSINESS.search(plain(text))),
    )


def _day(words: str, now: datetime, tz: ZoneInfo, *, clock_time: bool) -> tuple[date | None, tuple[date, date] | None]:
    """The day (or days) said, without the job's clock time deciding it: "the 2pm" alone is today's 2pm."""
    if clock_time:
        words = re.sub(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a|p|oclock)?\b|\bnoon\b", " ", words, flags=re.IGNORECASE)
    found = understand_when(words, now, tz)
    if isinstance(found, InThePast):
        found = found.window
    if not isinstance(found, TimeWindow):
        return None, None
    first = found.start.astimezone(tz).date()
    last = (found.end.astimezone(tz) - timedelta(microseconds=1)).date()
    if last > first:
        return None, (first, last + timedelta(days=1))
    return first, None
