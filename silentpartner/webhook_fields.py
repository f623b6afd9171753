"""Reading the fields of a webhook (Twilio form posts, Cal.com JSON) into values safe to store.

A signature proves who sent a request, not that its fields are sane. Every value we keep passes through
here first: integers are plain ASCII digits within the column's range (`"²".isdigit()` is true, and
`int()` also takes other scripts' digits and `1_000`), text has its NULs removed (PostgreSQL text cannot
hold them) and is cut to the column's width, ids have the shape their sender gives them.
"""

from __future__ import annotations

import re
from typing import Any

_ASCII_INT = re.compile(r"-?[0-9]{1,18}")
_TWILIO_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")

# How deep a Cal.com delivery may nest. Theirs are about five levels deep; a body nested thousands deep
# is an attack on the parser, not a booking.
MAX_JSON_DEPTH = 32


def bounded_int(raw: Any, *, low: int, high: int) -> int | None:
    """An integer written in ASCII digits and within [low, high]; anything else is None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _ASCII_INT.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if low <= value <= high else None


def clean_text(raw: Any, limit: int) -> str | None:
    """Text safe for a column of `limit` characters: NULs removed, surrounding space trimmed, cut to fit.
    None for anything that is not (or is nothing but) text."""
    if not isinstance(raw, str):
        return None
    text = raw.replace("\x00", "").strip()
    return text[:limit] or None


def twilio_sid(raw: Any, *prefixes: str) -> str | None:
    """A Twilio SID (two capital letters and 32 hex digits) with one of `prefixes`, else None."""
    if isinstance(raw, str) and _TWILIO_SID.fullmatch(raw) and raw[:2] in prefixes:
        return raw
    return None


def one_of(raw: Any, allowed: frozenset[str]) -> str | None:
    return raw if isinstance(raw, str) and raw in allowed else None


def json_depth_within(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` (parsed JSON) nests no deeper than `limit`. Iterative: never recurses."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True
