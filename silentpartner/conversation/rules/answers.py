"""What a receptionist answers from the business config, at any point in the call: hours, prices, the service
area, what we do, the business's own FAQ, and honestly whether the caller is talking to a machine. And the
refusals: said once in full, then briefly, then the conversation moves on."""

from __future__ import annotations

import re

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, EndOfTurn, Outcome, Say, SendSms
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.states import State, expects
from silentpartner.conversation.wording import join_words

_OPEN = frozenset({State.GREETING, State.NEED, State.ANYTHING_ELSE, State.TRANSFERRED})


def answer_questions(c: Capabilities, r: Reading) -> list[Action]:
    """One line per question the caller asked this turn (none if they asked none)."""
    lines: list[str] = []
    if r.has(Intent.ROBOT) and not r.has(Intent.PERSON):
        lines.append(c.line("robot"))
    safety = c.business.emergencies.safety_line
    if r.has(Intent.SHUTOFF) and safety and not r.water_running:  # (running water gets it from the flow)
        lines.append(safety)
    if r.has(Intent.HOURS):
        lines.append(c.line("hours", hours=c.business.hours.describe()))
    if r.has(Intent.AREA):
        lines.append(_area(c, r))
    if r.faq is not None:
        lines.append(r.faq.answer)
    else:
        if r.has(Intent.PRICE):
            lines.append(_prices(c, r))
        if r.has(Intent.SERVICES) and not r.problem:
            names = [s.name + "s" for s in c.business.services]
            lines.append(c.line("services", services=join_words(names)))
    if not lines:
        return []
    if c.memory.outcome.action == "none":
        c.memory.outcome = Outcome(action="info")
    return [Say(" ".join(lines))]


def _area(c: Capabilities, r: Reading) -> str:
    area = c.business.service_area
    if area is None:
        return c.line("area_unknown")
    place = _place_asked(r.text, [*area.cities])
    if place is None:
        return c.line("area", area=area.describe())
    postcode = place if place.isdigit() else None
    inside = area.covers(None if postcode else place, postcode)
    if inside:
        return c.line("area_yes", place=place)
    if inside is False:
        return c.line("area_no", place=place, area=area.describe())
    return c.line("area", area=area.describe())


def _place_asked(text: str, cities: list[str]) -> str | None:
    """The place in "do you come out to Beaverton?": a city we know, a ZIP code, or capitalised words after
    "to"/"in"/"cover" (speech recognition capitalises place names)."""
    lowered = text.lower()
    for city in cities:
        if re.search(rf"\b{re.escape(city.lower())}\b", lowered):
            return city
    postcode = re.search(r"\b(\d{5})\b", text)
    if postcode:
        return postcode.group(1)
    named = re.search(r"\b(?:to|in|cover|serve|service|out to|near)\s+((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+){0,2})", text)
    if named and named.group(1) not in ("I", "Mike", "The"):
        return named.group(1)
    return None


def _prices(c: Capabilities, r: Reading) -> str:
    lowered = r.plain
    services = [s for s in c.business.services if s.price]
    named = [s for s in services if s.name.lower() in lowered or any(a in lowered for a in s.aliases)]
    if not named:
        named = [s for s in services if any(w in lowered for w in s.name.lower().split() if len(w) > 4)]
    if not named and "emergenc" in lowered:
        named = [s for s in services if s.emergency]
    chosen = named or services
    if not chosen:
        return f"{c.owner_name} will give you a price once they've seen the job."
    parts = []
    for service in chosen:
        price = (service.price or "").strip()
        if price.lower() in ("free", "no charge", "nothing", "$0"):
            plain_name = re.sub(r"^free\s+", "", service.name)
            parts.append(f"there's no charge for {'an' if plain_name[:1] in 'aeiou' else 'a'} {plain_name}")
        else:
            parts.append(f"for {c.with_article(service.slug)}, it's {price}")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def refuse(c: Capabilities, key: str) -> list[Action]:
    """A refusal is said once in full; after that, briefly; a third time ends the call politely."""
    m = c.memory
    m.refusals += 1
    if m.refusals >= 3:
        return c.goodbye()
    line = c.line(key) if m.refusals == 1 else c.line("refuse_again")
    warn: list[Action] = []
    if key == "refuse_owner" and m.tell_once("owner_told_of_attempt"):
        # Someone not on the owner's or team's number asked for the schedule or the owner's powers.
        body = f"{c.business.name}: {m.caller or 'a hidden number'} asked for your schedule; I refused."
        warn.append(SendSms(to=c.business.owner_mobile, body=body, kind="owner_message"))
    if m.state in _OPEN:
        follow = c.line("then_anything")
        return c.ask(State.ANYTHING_ELSE, text=f"{line} {follow}", before=warn)
    return [*warn, Say(f"{line} {m.last_prompt}".strip()), EndOfTurn(expects(m.state))]
