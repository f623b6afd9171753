"""Spoken numbers as digits: number words, numerals and "double five", read the way people say phone and
house numbers (digit by digit) as well as the way they say amounts ("eight hundred fifty").
"""

from __future__ import annotations

import re

UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "nought": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}

TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}

TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
TENS["ninety"] = 90

ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}

REPEATS = {"double": 2, "triple": 3}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def is_number_word(token: str) -> bool:
    return token in UNITS or token in TEENS or token in TENS or token in ("hundred", "thousand")


def _read_group(tokens: list[str], i: int) -> tuple[str, int]:
    """Read one spoken number starting at tokens[i] ("forty four", "eight hundred", "twelve"); return its digits.

    Single digit words are returned one at a time: in phone numbers and house numbers people say digits
    one by one, so "five five five" must stay "555", not be added up.
    """
    token = tokens[i]
    if token.isdigit():
        return token, i + 1
    if token in TENS:
        value = TENS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] in UNITS and UNITS[tokens[j]] > 0 and tokens[j] not in ("o", "oh"):
            value += UNITS[tokens[j]]
            j += 1
        return str(value), j
    if token in TEENS:
        value = TEENS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] == "hundred":
            # "twelve hundred" = 1200, "fifteen hundred" = 1500
            return str(value * 100), j + 1
        return str(value), j
    if token in UNITS:
        value = UNITS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] in ("hundred", "thousand") and token not in ("o", "oh"):
            scale = 100 if tokens[j] == "hundred" else 1000
            value *= scale
            j += 1
            # "eight hundred fifty" = 850, "four thousand five hundred" = 4500
            if j < len(tokens) and scale == 1000 and tokens[j] in UNITS and j + 1 < len(tokens):
                if tokens[j + 1] == "hundred":
                    value += UNITS[tokens[j]] * 100
                    j += 2
            if j < len(tokens) and tokens[j] == "and":
                j += 1
            if j < len(tokens) and (tokens[j] in TENS or tokens[j] in TEENS):
                rest, j = _read_group(tokens, j)
                value += int(rest)
            elif j < len(tokens) and tokens[j] in UNITS and tokens[j] not in ("o", "oh", "zero"):
                # "two hundred five" is 205, but in "eight hundred five five five" the digits run on
                if not (j + 1 < len(tokens) and (tokens[j + 1] in UNITS or tokens[j + 1] in REPEATS)):
                    value += UNITS[tokens[j]]
                    j += 1
            return str(value), j
        return str(value), j
    return "", i + 1


def digits_from_speech(text: str) -> str:
    """All the digits said, in order: "five oh three, 555 double one two" -> "50355512"."""
    tokens = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in REPEATS and i + 1 < len(tokens) and (tokens[i + 1] in UNITS or tokens[i + 1].isdigit()):
            nxt = tokens[i + 1]
            digit = nxt if nxt.isdigit() else str(UNITS[nxt])
            out.append(digit * REPEATS[token])
            i += 2
            continue
        if token.isdigit() or is_number_word(token):
            if token in ("o", "oh") and not _near_number(tokens, i):
                # a lone "o" is a letter and a lone "oh" a sigh, unless among digits ("five oh three")
                i += 1
                continue
            digits, i = _read_group(tokens, i)
            out.append(digits)
            continue
        i += 1
    return "".join(out)


def _near_number(tokens: list[str], i: int) -> bool:
    """Whether the "o"/"oh" at i sits in an unbroken run of number words that holds a real number."""

    def numeric(t: str) -> bool:
        return t.isdigit() or is_number_word(t) or t in REPEATS

    def real(t: str) -> bool:
        return numeric(t) and t not in ("o", "oh")

    j = i
    while j > 0 and numeric(tokens[j - 1]):
        j -= 1
    k = i
    while k + 1 < len(tokens) and numeric(tokens[k + 1]):
        k += 1
    return any(real(t) for t in tokens[j : k + 1])
