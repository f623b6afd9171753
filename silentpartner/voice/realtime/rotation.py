"""Moving a long call to a fresh Realtime session before OpenAI's 60-minute cap ends it without warning.

The new session cannot see the old conversation, so it is told the call so far: the conversation engine's
instructions already carry the caller's details and the phase; the summary adds the last turns, word for word.
"""

from __future__ import annotations

from typing import Any

SUMMARY_LINES = 24  # the latest transcript lines handed over
SUMMARY_CHARS = 4000
GRACE_S = 120.0  # rotate even mid-response once this far past the limit (a call that never pauses)


def rotation_due(opened_at: float, now: float, limit_s: float, *, quiet: bool) -> bool:
    """Time to move to a new session: past the limit at a quiet moment (no response, no tool), or well past it."""
    age = now - opened_at
    return age >= limit_s and (quiet or age >= limit_s + GRACE_S)


def summarize(transcript: list[dict[str, Any]]) -> str:
    lines = []
    for entry in transcript[-SUMMARY_LINES:]:
        text = str(entry.get("text", "")).strip()
        if not text:
            continue
        who = "Caller" if entry.get("role") == "caller" else "You"
        lines.append(f"{who}: {text}")
    summary = "\n".join(lines)
    return summary[-SUMMARY_CHARS:]
