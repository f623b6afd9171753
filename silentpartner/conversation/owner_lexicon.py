"""What the owner (or a team member) asks the assistant, from their words: the owner's intents, and the job
they mean ("the 2pm", "Thursday's 9am", "the Lee job").

Owners text in shorthand ("whats on thurs", "who's the 2pm", "cancel the 9am and tell her", "running 20 late
to the 2", "off fri pm"), so each intent lists many phrasings; tests hold at least five per intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from silentpartner.conversation.lexicon import plain
from silentpartner.conversation.picking import times_in
from silentpartner.conversation.spoken.numbers import digits_from_speech


class OwnerIntent(StrEnum):
    SCHEDULE = "schedule"  # what's on today / tomorrow / Thursday
    WHO = "who"  # who is the 2pm
    NEXT = "next"  # where is my next job
    NEWS = "news"  # anything new since this morning
    CALLER = "caller"  # what did the caller at 3:10 want
    CALLS = "calls"  # how many calls today
    MOVE = "move"  # move the 2pm to Friday morning
    CANCEL = "cancel"  # cancel the 9am and tell her
    LATE = "late"  # running 20 min late to the 2pm
    BLOCK = "block"  # I'm off Friday afternoon
    REOPEN = "reopen"  # reopen Friday afternoon


_DAY = (
    r"(?:today|tomorrow|tmrw|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)"
)
_JOB = (
    r"(?:job|jobs|appointment|appointments|appt|booking|bookings|visit|visits|call|calls|stop|stops|schedule|day"
    r"|diary)"
)
_TIME_REF = (
    r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a|p|oclock)?|noon"
    r"|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s*(?:am|pm|oclock))?)"
)

_PATTERNS: dict[OwnerIntent, tuple[str, ...]] = {
    OwnerIntent.SCHEDULE: (
        rf"\bwhat is on\b|\bwhats on\b|\bwhat do i have\b|\bwhat have i got\b|\bwhat is my {_JOB}\b",
        rf"\bmy {_JOB} (?:for |on |today|tomorrow|this|next)|\b{_JOB} (?:for |on )?{_DAY}\b",
        rf"\b(?:any|how many) (?:jobs|appointments|bookings|visits) (?:on |for )?{_DAY}\b",
        rf"\bam i (?:busy|booked|free)\b|\bwhat does (?:my |the )?{_DAY}? ?(?:day |schedule |week )?look like\b",
        r"\b(?:read|give|send|tell) me (?:my |the )?(?:schedule|day|jobs|list|rundown)\b|\bmy day\b",
        rf"^(?:schedule|jobs|bookings|appointments)(?: for| on)?(?: {_DAY})?$|^{_DAY}\??$",
        rf"\bwho (?:do i have|have i got|am i seeing) (?:on |for )?{_DAY}\b",
    ),
    OwnerIntent.WHO: (
        rf"\bwho (?:is|was|s) (?:the |my |at |at the )?{_TIME_REF}\b",
        rf"\bwho (?:do i have|have i got|am i seeing|is booked|is coming|is in) (?:at|for) (?:the )?{_TIME_REF}\b",
        rf"\b(?:what|which) (?:is|s) (?:the |my )?{_TIME_REF}(?: job| appointment| one)?\b",
        rf"\bwhats (?:the |my )?{_TIME_REF}(?: job| appointment| one)?\b",
        rf"\b(?:tell me about|details (?:on|for)|info on|address (?:for|of)) (?:the |my )?(?:{_DAY}s? )?{_TIME_REF}\b",
        rf"\bwhere is (?:the |my )?{_TIME_REF}\b",
    ),
    OwnerIntent.NEXT: (
        r"\b(?:next|upcoming) (?:job|appointment|booking|visit|stop|customer|one)\b",
        r"\bwhere (?:am i|do i|should i) (?:going|go|headed|heading)(?: next)?\b|\bwhere to next\b|\bwhat is next\b",
        r"\bwhats next\b|\bwho is next\b|\bwho s next\b",
    ),
    OwnerIntent.NEWS: (
        r"\b(?:any|anything) (?:new|come in|came in)\b|\bnew (?:bookings|jobs|messages|calls)\b",
        r"\bwhat did i miss\b|\bdid i miss anything\b|\bany messages\b|\banything i should know\b",
        r"\b(?:bookings|messages|calls) since\b|\bsince (?:this morning|lunch|yesterday)\b",
    ),
    OwnerIntent.CALLER: (
        r"\bwhat did (?:the |that )?(?:caller|person|guy|lady|woman|man|customer|call) (?:at |from )?(?:the )?"
        rf"{_TIME_REF} want\b",
        rf"\bwho called at {_TIME_REF}\b|\b(?:the )?call at {_TIME_REF}\b|\bwhat was the {_TIME_REF} call\b",
        rf"\bwhat did (?:the )?{_TIME_REF} (?:caller|call) want\b",
    ),
    OwnerIntent.CALLS: (
        r"\bhow many (?:calls|people called|callers|phone calls)\b|\bcalls (?:today|so far|this morning)\b",
        r"\bhow (?:busy|many) (?:was|has) (?:the phone|it been)\b|\bcall count\b",
    ),
    OwnerIntent.MOVE: (
        r"\b(?:move|push|shift|bump|reschedule|switch|change) (?:the |my |that )?(?:\w+ )?"
        rf"(?:{_TIME_REF}|{_DAY}'?s? {_TIME_REF}|\w+ job|\w+ (?:appointment|booking))\b",
        r"\bmove (?:it|her|him|them) to\b|\breschedule (?:the |my )?\w+\b",
    ),
    OwnerIntent.CANCEL: (
        r"\b(?:cancel|scrap|drop|kill|call off) (?:the |my |that )?(?:\w+ )?"
        rf"(?:{_TIME_REF}|\w+ job|\w+ (?:appointment|booking))\b",
        r"\bcancel (?:it|her|him|them)\b",
    ),
    OwnerIntent.LATE: (
        r"\b(?:running|gonna be|going to be|will be|i am|im|be)\s+(?:about |like |maybe |around )?"
        r"(?:\d+|a few|few|ten|fifteen|twenty|thirty|forty|forty five|half an hour|an hour|a bit|bit)"
        r"(?:\s*(?:min|mins|minutes|m|hr|hour))?\s+(?:late|behind)\b",
        r"\brunning (?:late|behind)\b|\bstuck in traffic\b|\bwill be late\b",
    ),
    OwnerIntent.BLOCK: (
        r"\b(?:i am|im|i will be|i ll be|ill be) (?:off|out|away|unavailable|not working|not available)\b",
        rf"\bblock (?:off |out )?(?:the |my )?(?:{_DAY}|morning|afternoon|evening|day|time)\b",
        rf"\b(?:take|taking) (?:the |my )?(?:next |this )?(?:{_DAY} )?(?:morning |afternoon |evening |day )?off\b",
        rf"\b(?:day|time|afternoon|morning) off\b|\bno (?:jobs|bookings|appointments) (?:on|for) {_DAY}\b",
        rf"\bclose (?:out )?(?:the |my )?{_DAY}\b|\bdont book (?:me|anything|anyone)\b|\bdo not book (?:me|anything)\b",
        rf"^off {_DAY}\b",
    ),
    OwnerIntent.REOPEN: (
        r"\breopen\b|\bopen (?:up|back up|it back up)\b|\bunblock\b",
        r"\b(?:i am|im) (?:back|free|available|working)(?: again)?\b|\bcan work (?:after all|again)\b",
        r"\bcancel (?:my )?(?:time off|day off|block)\b|\bavailable again\b",
    ),
}
_COMPILED = {intent: re.compile("|".join(f"(?:{p})" for p in pats)) for intent, pats in _PATTERNS.items()}
_TELL_THEM = re.compile(r"\b(?:tell|let|text|inform|message) (?:her|him|them|the customer|the client)\b|\band tell\b")


def owner_intents(text: str) -> set[OwnerIntent]:
    """Every owner intent the words match; a change wins over a question about the same job."""
    words = _shorthand(plain(text))
    found = {intent for intent, pattern in _COMPILED.items() if pattern.search(words)}
    if found & {OwnerIntent.MOVE, OwnerIntent.CANCEL, OwnerIntent.LATE, OwnerIntent.BLOCK, OwnerIntent.REOPEN}:
        found -= {OwnerIntent.SCHEDULE, OwnerIntent.WHO}
    if found & {OwnerIntent.CALLS, OwnerIntent.CALLER, OwnerIntent.NEWS}:
        found -= {OwnerIntent.SCHEDULE, OwnerIntent.WHO}  # "how many calls today" is about calls, not jobs
    if OwnerIntent.REOPEN in found:
        found -= {OwnerIntent.BLOCK, OwnerIntent.CANCEL}  # "cancel my time off" reopens it
    return found


def _shorthand(words: str) -> str:
    """Owners' text shorthand as words: "2p" -> "2 pm", "thurs" stays (the day reader knows it)."""
    words = re.sub(r"\b(\d{1,2}(?::\d{2})?)\s*p\b", r"\1 pm", words)
    return re.sub(r"\b(\d{1,2}(?::\d{2})?)\s*a\b", r"\1 am", words)


@dataclass(frozen=True)
class JobRef:
    """The job the owner means: a clock time ("the 2pm"), a customer's name ("the Lee job"), or both."""

    minutes: int | None = None  # minutes after local midnight
    name: str | None = None


_CLOCK_REF = re.compile(
    r"\b(?:the |my |at |for |to )?(\d{1,2})(?::(\d{2}))?(?!\s*(?:min|mins|minutes|m|late|hours?|hrs?)\b)"
    r"\s*(am|pm|oclock)?\b"
)
_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}/\d{1,2}\b|\bthe \d{1,2}(?:st|nd|rd|th)\b"
)
# "the Lee job", "the ray job" (owners text in lower case); not "the 2pm job", "the next job".
_NAME_REF = re.compile(r"\b(?:the |with |for )?([A-Za-z][a-z'-]+)(?:'s)? (?:job|appointment|booking|visit)\b")
_NOT_NAMES = frozenset(
    {"the", "my", "that", "this", "next", "first", "last", "other", "same", "new", "morning", "afternoon", "evening"}
    | {"today", "todays", "tomorrow", "tomorrows", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
    | {"sunday", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "an", "a", "one"}
    | {"service", "emergency", "estimate", "plumbing", "big", "small", "quick", "early", "late", "noon"}
)
_WORD_HOURS = {"noon": 12 * 60}


def job_ref(text: str) -> JobRef | None:
    """ "the 2pm" -> 14:00; "the 9" -> 9:00 (trades hours: 1-6 is afternoon); "the Lee job" -> name "Lee"."""
    words = _DATE.sub(" ", _shorthand(plain(text)))
    minutes = None
    if re.search(r"\bnoon\b", words):
        minutes = 12 * 60
    spoken = times_in(words) if not re.search(r"\d", words) else []
    if spoken:  # "who's the one o'clock"
        hour, minute, ampm = spoken[0]
        hour = hour % 12 + 12 if ampm == "pm" or (ampm is None and 1 <= hour <= 6) else hour
        minutes = hour * 60 + (minute or 0)
    for match in _CLOCK_REF.finditer(words):
        hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if not 1 <= hour <= 12 or minute > 59:
            continue
        if suffix == "pm" or (suffix is None and 1 <= hour <= 6):
            hour = hour % 12 + 12
        elif suffix == "am" and hour == 12:
            hour = 0
        minutes = hour * 60 + minute
        break
    named = next((m for m in _NAME_REF.finditer(text) if m.group(1).lower() not in _NOT_NAMES), None)
    name = named.group(1) if named else None
    if minutes is None and name is None:
        return None
    return JobRef(minutes=minutes, name=name)


def minutes_late(text: str) -> int | None:
    """ "running 20 min late" -> 20, "half an hour late" -> 30, "an hour behind" -> 60."""
    words = plain(text)
    if re.search(r"\bhalf an hour\b", words):
        return 30
    if re.search(r"\ban hour\b", words):
        return 60
    match = re.search(
        r"\b((?:\d+|a few|few|ten|fifteen|twenty|thirty|forty|forty five|five))\s*(?:min|mins|minutes|m)?\s+"
        r"(?:late|behind)\b",
        words,
    )
    if match is None:
        return None
    amount = match.group(1)
    if amount in ("a few", "few"):
        return 10
    digits = digits_from_speech(amount) if not amount.isdigit() else amount
    return int(digits) if digits else None


def tells_customer(text: str) -> bool:
    """ "cancel the 9am and tell her": text the customer about it (the assistant always does for a change)."""
    return bool(_TELL_THEM.search(plain(text)))
