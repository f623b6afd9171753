"""A street address said or typed: house number (in words or numerals), direction, street, unit."""

from __future__ import annotations

import re

from silentpartner.conversation.spoken.names import title_case
from silentpartner.conversation.spoken.numbers import REPEATS, UNITS, digits_from_speech, is_number_word

STREET_TYPES = {
    "street": "Street",
    "st": "St",
    "avenue": "Avenue",
    "ave": "Ave",
    "road": "Road",
    "rd": "Rd",
    "boulevard": "Boulevard",
    "blvd": "Blvd",
    "lane": "Lane",
    "ln": "Ln",
    "drive": "Drive",
    "dr": "Dr",
    "court": "Court",
    "ct": "Ct",
    "way": "Way",
    "place": "Place",
    "pl": "Pl",
    "terrace": "Terrace",
    "parkway": "Parkway",
    "pkwy": "Pkwy",
    "highway": "Highway",
    "hwy": "Hwy",
    "circle": "Circle",
    "cir": "Cir",
    "loop": "Loop",
    "trail": "Trail",
    "square": "Square",
    "alley": "Alley",
    "crescent": "Crescent",
    "row": "Row",
    "path": "Path",
    "pike": "Pike",
}

_DIRECTIONS = {
    "n": "N",
    "s": "S",
    "e": "E",
    "w": "W",
    "ne": "NE",
    "nw": "NW",
    "se": "SE",
    "sw": "SW",
    "north": "North",
    "south": "South",
    "east": "East",
    "west": "West",
    "northeast": "NE",
    "northwest": "NW",
    "southeast": "SE",
    "southwest": "SW",
}

_UNIT_WORDS = {"apartment": "Apartment", "apt": "Apt", "unit": "Unit", "suite": "Suite", "ste": "Suite", "#": "#"}
_ADDRESS_TOKEN = re.compile(r"#|[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:st|nd|rd|th)\b|\d+[A-Za-z]?")


def _number_run(tokens: list[str], i: int) -> tuple[str, int]:
    """Digits said at tokens[i:], as numerals or words ("4410", "one two three", "forty four ten")."""
    spoken: list[str] = []
    j = i
    while j < len(tokens):
        low = tokens[j].lower()
        if low.isdigit() or (is_number_word(low) and low != "o") or (low == "o" and spoken):
            spoken.append(low)
            j += 1
        elif low in REPEATS and j + 1 < len(tokens) and tokens[j + 1].lower() in UNITS:
            spoken.append(low)
            j += 1
        else:
            break
    return digits_from_speech(" ".join(spoken)), j


def extract_address(text: str) -> str | None:
    """A street address: "123 Main Street", "4410 SE Hawthorne Blvd apartment 2", "one two three main street"."""
    tokens = _ADDRESS_TOKEN.findall(text.replace("’", "'"))
    for start in range(len(tokens)):
        low = tokens[start].lower()
        if not (low.isdigit() or (is_number_word(low) and low not in ("o", "oh"))):
            continue
        house, j = _number_run(tokens, start)
        if not house or len(house) > 6:
            continue
        parts: list[str] = [house]
        if j + 1 < len(tokens) and f"{tokens[j]}{tokens[j + 1]}".lower() in _DIRECTIONS and len(tokens[j]) > 1:
            # "north east" said as two words
            parts.append(_DIRECTIONS[f"{tokens[j]}{tokens[j + 1]}".lower()])
            j += 2
        elif j < len(tokens) and tokens[j].lower() in _DIRECTIONS:
            parts.append(_DIRECTIONS[tokens[j].lower()])
            j += 1
        name_words: list[str] = []
        street_type: str | None = None
        while j < len(tokens) and len(name_words) <= 4:
            word = tokens[j]
            low = word.lower()
            if low in STREET_TYPES and name_words:
                street_type = STREET_TYPES[low]
                j += 1
                break
            if not (word.isalpha() or re.fullmatch(r"\d+(st|nd|rd|th)", low)) or low in _NOT_ADDRESS_WORDS:
                break
            name_words.append(word)
            j += 1
        if not name_words:
            continue
        has_direction = len(parts) > 1
        if street_type is None and not has_direction:
            continue
        parts.extend(w.lower() if re.fullmatch(r"\d+(st|nd|rd|th)", w.lower()) else title_case(w) for w in name_words)
        if street_type:
            parts.append(street_type)
        if j < len(tokens) and tokens[j].lower() in _DIRECTIONS and len(tokens[j]) <= 2:
            parts.append(_DIRECTIONS[tokens[j].lower()])
            j += 1
        if j < len(tokens) and tokens[j].lower() in _UNIT_WORDS:
            unit_word = _UNIT_WORDS[tokens[j].lower()]
            j += 1
            if j < len(tokens) and tokens[j].lower() in ("number", "no"):
                j += 1
            if j < len(tokens):
                unit_digits, k = _number_run(tokens, j)
                if unit_digits:
                    # a letter after the number ("apartment 2 b") belongs to the unit
                    if k < len(tokens) and len(tokens[k]) == 1 and tokens[k].isalpha():
                        unit_digits += tokens[k].upper()
                    parts.append(f"{unit_word}{'' if unit_word == '#' else ' '}{unit_digits}")
                elif len(tokens[j]) <= 3 and tokens[j].isalnum():
                    parts.append(f"{unit_word} {tokens[j].upper()}")
        return " ".join(parts)
    return None


_NOT_ADDRESS_WORDS = frozenset(
    {"at", "in", "on", "and", "or", "but", "pm", "am", "o'clock", "oclock", "tomorrow", "today", "is", "my", "the"}
    | {"minutes", "hours", "days", "weeks", "dollars", "bucks", "years", "people", "times"}
)
