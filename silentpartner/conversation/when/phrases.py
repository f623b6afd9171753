"""Normalising what was said before reading it: spelling variants, number words to numerals, "half past",
corrections inside a sentence, and the things that look like times but are not (addresses, phone
numbers, days ruled out).
"""

from __future__ import annotations

import re

from silentpartner.conversation.spoken.addresses import STREET_TYPES
from silentpartner.conversation.spoken.numbers import ORDINALS, TEENS, TENS, UNITS
from silentpartner.conversation.when.calendar_words import MONTH_ABBREVIATIONS, MONTHS, WEEKDAY_WORD
from silentpartner.speech_text import ordinal

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
    # "fri pm", "mon am": a day's afternoon or morning, as people text it
    (rf"\b({WEEKDAY_WORD}|today|tomorrow) pm\b", r"\1 afternoon"),
    (rf"\b({WEEKDAY_WORD}|today|tomorrow) am\b", r"\1 morning"),
]

# A correction inside one sentence: "Wednesday, no, Thursday", "at two, sorry, three", "actually make it Friday".
CORRECTION = re.compile(
    r"(?:^|[\s,.;!?-])(?:no no|no|nope|sorry|actually|i mean|i meant|wait|make it|make that|or rather|rather"
    r"|scratch that|change that to|correction)(?=[\s,.;!?]|$)"
)

# A street address is not a time: "I'm at 12 Oak St, tomorrow at 2" means 2 PM, not noon.
STREET_ADDRESS = re.compile(
    r"\b\d+(?:st|nd|rd|th)? (?:(?!(?:to|on|at|in|by|and|or|for|from|till|until|pm|am)\b)[a-z0-9']+ ){1,3}?"
    r"(?:" + "|".join(STREET_TYPES) + r")\b"
)

# A day ruled out: "not Friday", "Wednesday doesn't work", "I can't do Monday".
_DAY_WORD = rf"(?:this |next |on )?(?:{WEEKDAY_WORD}|today|tomorrow)"

NEGATED_DAY = re.compile(
    rf"\bnot {_DAY_WORD}\b"
    rf"|\b{_DAY_WORD} (?:doesn't|does not|won't|will not|isn't|is not|wouldn't|would not|is no|is bad|is out)\b"
    rf"(?: work| good| great| possible| an option| going to work)?"
    rf"|\b(?:can't|cannot|can not|couldn't|not available|busy|out of town) (?:do |on |make )?{_DAY_WORD}\b"
    rf"|\b(?:at work|working|busy|not home|not around|tied up|out of town)(?: all day)? (?:on )?{_DAY_WORD}\b"
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
            and (prev in ("the", "on") or prev in MONTHS or prev in MONTH_ABBREVIATIONS)
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


def normalise(text: str) -> str:
    text = text.lower()
    for pattern, replacement in _PHRASE_REWRITES:
        text = re.sub(pattern, replacement, text)
    return text


def clean_segment(segment: str) -> str:
    segment = NEGATED_DAY.sub(" ", segment)
    segment = re.sub(r"[^a-z0-9:/' ]+", " ", segment)
    segment = re.sub(r"\s+", " ", segment).strip()
    segment = STREET_ADDRESS.sub(" ", _words_to_numbers(_drop_digit_runs(segment)))
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
