"""Phone numbers in E.164, via the phonenumbers library. Every comparison happens in E.164."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """Normalise a number as a person or a carrier wrote it; raise `InvalidPhoneNumber` if it is not one."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    if not raw:
        return None
    try:
        return to_e164(raw, region)
    except InvalidPhoneNumber:
        return None


def is_e164(value: str) -> bool:
    return try_e164(value) == value


def last_four(number: str) -> str:
    return number[-4:]


def national_format(number: str, region: str = DEFAULT_REGION) -> str:
    """How a person writes the number at home: "(503) 555-0123" for a US number; as given if it is not one."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
