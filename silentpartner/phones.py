"""Phone numbers in E.164, via the phonenumbers library. Every comparison happens in E.164."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    pass


def lacks_area_code(raw: str, region: str = DEFAULT_REGION) -> bool:
    """Written as a local number only ("555-0100"): no area code, so no E.164 form can be made from it."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return False
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    return reason == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY


def timezone_of(number: str) -> str | None:
    """The one IANA timezone an E.164 number's area lies in, or None when it spans several (toll-free)."""
    from phonenumbers import timezone  # the timezone data is loaded only when asked for

    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


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


def last_four(number: str) -> str:
    return number[-4:]


def national_format(number: str, region: str = DEFAULT_REGION) -> str:
    """How a person writes the number at home: "(503) 555-0123" for a US number; as given if it is not one."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
