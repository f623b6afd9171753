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

# Directions are read back as the caller said them: "SE" stays "SE", "southeast" (or "south east") is "Southeast".
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
    "northeast": "Northeast",
    "northwest": "Northwest",
    "southeast": "Southeast",
    "southwest": "Southwest",
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
    """A street address as said: "123 Main Street", "4410 SE Hawthorne Blvd apartment 2, Portland 97214",
    "one two three main street". The city and ZIP are kept when the caller gives them."""
    found = _street(text)
    if found is None:
        return None
    street, end = found
    city, postcode = _city_and_zip(text[end:])
    if city and postcode:
        return f"{street}, {city} {postcode}"
    if city or postcode:
        return f"{street}, {city or postcode}"
    return street


def split_address(address: str) -> tuple[str, str | None, str | None]:
    """(street, city, ZIP) of an address as `extract_address` writes it."""
    street, _, rest = address.partition(", ")
    postcode = re.search(r"\b(\d{5})(?:-\d{4})?\b", rest)
    city = re.sub(r"\b\d{5}(?:-\d{4})?\b", "", rest).strip(" ,") or None
    return street, city, postcode.group(1) if postcode else None


def _street(text: str) -> tuple[str, int] | None:
    """The street part and where it ends in `text`."""
    matches = list(_ADDRESS_TOKEN.finditer(text.replace("’", "'")))
    tokens = [m.group(0) for m in matches]
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
                        k += 1
                    parts.append(f"{unit_word}{'' if unit_word == '#' else ' '}{unit_digits}")
                    j = k
                elif len(tokens[j]) <= 3 and tokens[j].isalnum():
                    parts.append(f"{unit_word} {tokens[j].upper()}")
                    j += 1
        end = matches[j - 1].end() if j > 0 else 0
        return " ".join(parts), end
    return None


_STATES = {"or": "OR", "oregon": "OR", "wa": "WA", "washington": "WA", "ca": "CA", "california": "CA"}
# A city is given after a comma or "in" ("..., Portland", "... in Lake Oswego"), and is not one of these words.
_NOT_CITY = frozenset(
    {"and", "but", "so", "i", "it", "the", "my", "we", "tomorrow", "today", "tonight", "please", "thanks", "thank"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "morning", "afternoon"}
    | {"evening", "at", "on", "around", "near", "by", "is", "if", "can", "could", "you", "anytime", "any", "right"}
    | {"apartment", "apt", "unit", "suite", "the", "a", "an", "next", "this", "that", "there", "here", "yes", "no"}
)
_CITY_LEAD = re.compile(r"^\s*(?:,\s*|\s+in\s+(?:the\s+city\s+of\s+)?)", re.IGNORECASE)
_CITY_WORDS = re.compile(r"[A-Za-z][A-Za-z'.-]*")


def _city_and_zip(rest: str) -> tuple[str | None, str | None]:
    """A city (one to three words) and a ZIP code right after the street, as the caller said them."""
    lead = _CITY_LEAD.match(rest)
    postcode: str | None = None
    city_words: list[str] = []
    if lead:
        position = lead.end()
        for match in _CITY_WORDS.finditer(rest, position):
            between = rest[position : match.start()]
            if between.strip(" "):  # punctuation or digits end the city
                break
            word = match.group(0).rstrip(".")
            if word.lower() in _NOT_CITY or word.lower() in _STATES or len(city_words) == 3:
                break
            city_words.append(word)
            position = match.end()
        after = rest[position:] if city_words else rest[lead.end() :]
    else:
        after = rest
    zip_match = re.match(
        r"^[\s,]*(?:(?:or|oregon|wa|washington|ca|california)\b[\s,]*)?(\d{5})(?:-\d{4})?\b", after, re.I
    )
    if zip_match:
        postcode = zip_match.group(1)
    if city_words and not (lead and lead.group(0).strip().startswith(",")) and not _looks_like_city(city_words):
        city_words = []  # "... in the kitchen" is not a city
    city = " ".join(title_case(w) for w in city_words) or None
    return city, postcode


def _looks_like_city(words: list[str]) -> bool:
    """After "in", a city is written with capitals (speech recognition and people both do this)."""
    return all(w[:1].isupper() for w in words)


_NOT_ADDRESS_WORDS = frozenset(
    {"at", "in", "on", "and", "or", "but", "pm", "am", "o'clock", "oclock", "tomorrow", "today", "is", "my", "the"}
    | {"minutes", "hours", "days", "weeks", "dollars", "bucks", "years", "people", "times"}
)
