"""A phone number said or typed, checked and written in E.164."""

from __future__ import annotations

import re

import phonenumbers

from silentpartner.conversation.spoken.numbers import REPEATS, digits_from_speech, is_number_word


def parse_phone_number(text: str, region: str = "US") -> str | None:
    """A phone number said or typed, in E.164; None unless it is a valid number for the region.

    The whole utterance is tried first; failing that, each stretch of numbers between other words
    ("it's 503 555 1234 and I'm at 12 Main Street").
    """
    candidates = [text, *_number_stretches(text)]
    for candidate in candidates:
        number = _valid_e164(candidate, region)
        if number:
            return number
    return None


def _valid_e164(text: str, region: str) -> str | None:
    digits = digits_from_speech(text)
    if not 7 <= len(digits) <= 15:
        return None
    international = bool(re.search(r"\+|\bplus\b", text.lower()))
    try:
        parsed = phonenumbers.parse(f"+{digits}" if international else digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_STRETCH_TOKEN = re.compile(r"\+|[a-z]+|\d+")


def _number_stretches(text: str) -> list[str]:
    """Runs of number words and numerals, split wherever another word comes between them."""
    stretches: list[list[str]] = [[]]
    for token in _STRETCH_TOKEN.findall(text.lower()):
        if token.isdigit() or token == "+" or token == "plus" or token in REPEATS or is_number_word(token):
            stretches[-1].append(token)
        elif stretches[-1]:
            stretches.append([])
    return [" ".join(stretch) for stretch in stretches if stretch]
