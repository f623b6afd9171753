"""Side questions about the business (hours, prices, service area, services) and refusals, each
answered before repeating the question the caller was in the middle of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.conversation.events import Action, EndOfTurn
from silentpartner.conversation.events import Say as SayAction

if TYPE_CHECKING:  # the engine imports the rules brain
    from silentpartner.conversation.engine import Engine


def answer(e: Engine, kind: str, text: str) -> list[Action]:
    s = e.state
    b = e.business
    if kind == "hours":
        line = e.line("hours", hours=b.hours.describe())
    elif kind == "area":
        line = e.line("area", area=b.service_area) if b.service_area else e.line("area_unknown")
    elif kind == "services":
        names = [sv.name + "s" for sv in b.services]
        line = e.line("services", services=", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0])
    else:
        line = _prices(e, text)
    if s.outcome.get("action") == "none":
        s.outcome = {"action": "info"}
    if s.awaiting in (None, "need", "anything_else"):
        return e.ask("then_anything", "anything_else", before=[SayAction(line)])
    # Mid-booking: answer, then ask the same question again.
    return [SayAction(f"{line} {s.last_prompt or ''}".strip()), EndOfTurn()]


def _prices(e: Engine, text: str) -> str:
    lowered = text.lower()
    services = [sv for sv in e.business.services if sv.price]
    named = [sv for sv in services if sv.name.lower() in lowered or any(a in lowered for a in sv.aliases)]
    if not named and "emergenc" in lowered:
        named = [sv for sv in services if sv.emergency]
    chosen = named or services
    if not chosen:
        return f"{e.owner_name} will give you a price once they've seen the job."
    parts = [f"for {e.with_article(sv.slug)} it's {sv.price}" for sv in chosen]
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def refuse(e: Engine, key: str) -> list[Action]:
    prompt = e.state.last_prompt or ""
    line = e.line(key)
    if e.state.awaiting in (None, "need", "anything_else"):
        e.state.awaiting = "need"
        return [SayAction(line), EndOfTurn()]
    return [SayAction(f"{line} {prompt}".strip()), EndOfTurn()]
