"""What a caller said, turned into data: phone numbers, digits, names, spelled words, yes/no, addresses, emails.

Everything here works on text from speech recognition or a text message, so numbers arrive as words
("five oh three"), as numerals ("503") or mixed, and letters arrive spelled out ("S M I T H", "s-m-i-t-h").
Pure functions, no I/O. Each kind of answer has its own module; this package re-exports the public ones.
"""

from silentpartner.conversation.spoken.addresses import STREET_TYPES, extract_address
from silentpartner.conversation.spoken.emails import extract_email
from silentpartner.conversation.spoken.names import extract_name, spelled_word
from silentpartner.conversation.spoken.numbers import ORDINALS, REPEATS, TEENS, TENS, UNITS, digits_from_speech
from silentpartner.conversation.spoken.phone_numbers import parse_phone_number
from silentpartner.conversation.spoken.yes_no import is_no, is_yes

__all__ = [
    "ORDINALS",
    "REPEATS",
    "STREET_TYPES",
    "TEENS",
    "TENS",
    "UNITS",
    "digits_from_speech",
    "extract_address",
    "extract_email",
    "extract_name",
    "is_no",
    "is_yes",
    "parse_phone_number",
    "spelled_word",
]
