"""Choosing a time: understanding "when", asking back when it is ambiguous, offering slots, and the
caller's pick among them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from silentpartner.conversation.events import Action
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.intents import rejects_offer
from silentpartner.conversation.rules.booking import next_step
from silentpartner.conversation.rules.matching import match_offer, on_offered_day
from silentpartner.conversation.spoken.yes_no import is_no, is_yes
from silentpartner.conversation.when_adapter import resolve, understand

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def on_when(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    window = understand(e, text)
    kind = window.get("kind")
    if kind == "window" and _too_far(e, window):
        days = e.business.booking_window_days
        return e.ask_text(f"I can only book up to {days} days ahead. {e.line('ask_when')}", "when")
    if kind == "window":
        if s.intent == "reschedule":
            return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
        s.window = window
        return next_step(e)
    if kind == "ambiguous":
        s.ambiguous = {"text": text, "question": window["question"]}
        return e.ask_text(window["question"], "ambiguous")
    if kind == "past":
        return e.ask_text(window["say"], "when")
    if any(k in kinds for k in ("hours", "price", "area", "services", "cancel", "message")):
        return None
    return e.ask("when_again", "when")


def on_ambiguous(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    original = (s.ambiguous or {}).get("text", "")
    window = resolve(e, original, text)
    if window.get("kind") != "window":
        window = understand(e, text)
    if window.get("kind") == "window":
        s.ambiguous = None
        if s.intent == "reschedule":
            return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
        s.window = window
        return next_step(e)
    ambiguous = s.ambiguous or {}
    if ambiguous.get("asked_again"):  # twice unclear: start the question over
        s.ambiguous = None
        return e.ask("when_again", "when")
    s.ambiguous = {**ambiguous, "asked_again": True}
    return e.ask_text(ambiguous.get("question") or e.line("when_again"), "ambiguous")


def offer(e: Engine, ids: list[str], *, nearest: bool, prefix: str = "") -> list[Action]:
    s = e.state
    if not ids:
        return e.ask("none_at_all", "message_offer", before=[SayAction(prefix)] if prefix else None)
    options = e.options_text(ids)
    if nearest and s.window and not prefix:
        text = e.line("offer_nearest", label=s.window.get("label") or "then", options=options)
    else:
        text = e.line("offer_one" if len(ids) == 1 else "offer", options=options)
    return e.ask_text(f"{prefix} {text}".strip(), "slot_choice")


def on_slot_choice(e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
    s = e.state
    picked = match_offer(e, text)
    if picked:
        return [e.choose(picked)]
    window = understand(e, on_offered_day(e, text))
    if window.get("kind") == "window":
        if s.intent == "reschedule":
            return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
        s.window = window
        return [e.search(window, purpose="offer")]
    if window.get("kind") in ("ambiguous", "past"):
        return on_when(e, text, kinds)
    if is_yes(text) and len(s.last_offer) == 1:
        return [e.choose(s.last_offer[0])]
    if is_no(text) or rejects_offer(text):
        return e.ask("ask_when", "when", before=[e.say("ok")])
    if kinds and not any(k in kinds for k in ("book",)):
        return None
    return e.ask("pick_again", "slot_choice")


def _too_far(e: Engine, window: dict[str, Any]) -> bool:
    limit = e.now_local() + timedelta(days=e.business.booking_window_days)
    return datetime.fromisoformat(window["start"]) > limit
