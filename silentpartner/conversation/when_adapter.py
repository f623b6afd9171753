"""Time understanding (the `when` package) as plain dicts the conversation state can keep between turns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from silentpartner.conversation.when import Ambiguous, InThePast, TimeWindow, resolve_choice, understand_when

if TYPE_CHECKING:
    from silentpartner.conversation.engine import Engine


def window_dict(window: TimeWindow) -> dict[str, Any]:
    return {
        "kind": "window",
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "label": window.label,
        "exact": window.exact,
        "asap": window.asap,
    }


def understand(e: Engine, text: str) -> dict[str, Any]:
    """{"kind": "window"|"ambiguous"|"past"|"none", ...} for what the caller said about time."""
    result = understand_when(text, e.clock.now(), e.business.tz)
    if isinstance(result, TimeWindow):
        return window_dict(result)
    if isinstance(result, Ambiguous):
        return {"kind": "ambiguous", "question": result.question}
    if isinstance(result, InThePast):
        return {"kind": "past", "say": f"{result.message} {e.line('ask_when')}".strip()}
    return {"kind": "none"}


def resolve(e: Engine, original: str, answer: str) -> dict[str, Any]:
    """The caller's answer to an ambiguity question ("this Friday or next?")."""
    result = understand_when(original, e.clock.now(), e.business.tz)
    if isinstance(result, Ambiguous):
        picked = resolve_choice(answer, result)
        if picked is not None:
            return window_dict(picked)
    return {"kind": "none"}
