"""The rules brain: offline, deterministic. Keyword intents, server-side time understanding, number and
name parsing, templated replies. It drives every flow (book, emergency, reschedule, cancel, "when is my
appointment", questions, messages, transfer, the owner's schedule) through the engine's guarded
capabilities, so it obeys the same guards a chat model does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from silentpartner.conversation import guards
from silentpartner.conversation.events import Action, EndOfTurn
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.intents import (
    describes_problem,
    intents,
    is_done,
    is_greeting_only,
    rejects_offer,
    wants_estimate,
)
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.spoken import (
    extract_address,
    extract_email,
    extract_name,
    is_no,
    is_yes,
    parse_phone_number,
)
from silentpartner.conversation.when_adapter import understand
from silentpartner.phones import last_four, try_e164
from silentpartner.speech_text import DAY_NAMES, clock, spoken_day

if TYPE_CHECKING:  # the engine imports this module
    from silentpartner.conversation.engine import Engine

_ORDINALS = (
    (0, r"\b(first|1st (one|option)|earliest|earlier|the early one|number one|option one)\b"),
    (1, r"\b(second|2nd (one|option)|middle|number two|option two)\b"),
    (2, r"\b(third|3rd (one|option)|number three|option three)\b"),
    (-1, r"\b(last|latest|later one|the late one)\b"),
)
_SCHEDULE = re.compile(r"\b(schedule|jobs?|appointments?|bookings?|booked|calendar)\b", re.I)
_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45, "o'clock": 0, "half": 30}
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?!\s*(?:st|nd|rd|th)\b)(?![\d/])", re.I)
_WORD_CLOCK = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s+(fifteen|thirty|forty[ -]five|o'clock))?"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|in the morning|in the afternoon))?\b",
    re.I,
)


class RulesBrain:
    # -- entry points ---------------------------------------------------------------------------------
    def start(self, e: Engine) -> list[Action]:
        return e.greeting()

    def keys(self, e: Engine, digits: str) -> list[Action]:
        s = e.state
        digits = digits.strip("#*")
        if s.awaiting in ("phone", "phone_confirm"):
            number = try_e164(digits)
            if number:
                return self._phone_set(e, number)
            return e.ask("phone_again", "phone")
        if s.awaiting == "slot_choice" and digits.isdigit() and 1 <= int(digits) <= len(s.last_offer):
            return self._choose(e, s.last_offer[int(digits) - 1])
        if s.awaiting in ("readback", "cancel_confirm") and digits in ("1", "2"):
            return self.said(e, "yes" if digits == "1" else "no")
        return self.said(e, digits)

    def said(self, e: Engine, text: str) -> list[Action]:
        s = e.state
        kinds = intents(text)
        if guards.is_rule_attack(text):
            return self._refuse(e, "refuse_owner" if guards.claims_to_be_owner(text) else "refuse_rules")
        if guards.claims_to_be_owner(text) and not s.is_owner:
            return self._refuse(e, "refuse_owner")
        if s.is_owner and _SCHEDULE.search(text):
            window = understand(e, text)
            day = datetime.fromisoformat(window["start"]) if window.get("kind") == "window" else None
            return [e.owner_schedule(day)]
        email = extract_email(text)
        if email:  # only ever kept when the caller offers it
            s.details.email = email
        if "gas" in kinds:
            return self._gas(e, text)
        if ("person" in kinds or _asks_for_owner(e, text)) and s.awaiting != "message":
            return e.transfer()
        handler = getattr(self, f"_on_{s.awaiting}", None) if s.awaiting else None
        if handler is not None:
            out = handler(e, text, kinds)
            if out is not None:
                return out
        return self._need(e, text, kinds)

    # -- understanding the need -----------------------------------------------------------------------
    def _need(self, e: Engine, text: str, kinds: list[str]) -> list[Action]:
        s = e.state
        mid_flow = s.awaiting not in (None, "need", "anything_else", "offer_book", "message_offer")
        for kind in kinds:
            if kind in ("hours", "price", "area", "services"):
                return self._answer(e, kind, text)
            if mid_flow and kind == "book":
                continue  # mid-booking, words like "sink" are part of the answer, not a new request
            if kind == "emergency":
                return self._start_emergency(e, text)
            if kind in ("reschedule", "cancel", "lookup"):
                return self._start_lookup(e, kind, text)
            if kind == "message":
                s.intent, s.phase = "message", Phase.MESSAGE
                return e.ask("ask_message", "message")
            if kind == "book":
                return self._start_booking(e, text)
        if mid_flow:
            return [e.say("didnt_get", prompt=s.last_prompt or ""), EndOfTurn()]
        if (is_done(text) or is_no(text)) and not kinds:
            return e.goodbye()
        if is_greeting_only(text):
            return e.ask("greet_sms" if e.is_sms else "hello_again", "need")
        if not s.details.name and re.search(r"\b(my name|name'?s|this is|it'?s|i'?m)\b", text, re.I):
            name = extract_name(text)
            if name:  # "Hi, this is John" before saying what they need
                s.details.name = name
                return e.ask_text(f"Hi {name.split()[0]}, how can I help you today?", "need")
        s.strays += 1
        if s.strays >= 3:  # still lost after a few tries: offer the owner instead of going round in circles
            s.strays = 0
            return e.ask_text(
                f"I might not be the best help here. Would you like me to take a message for {e.owner_name}?",
                "message_offer",
            )
        return e.ask("off_topic", "need")

    def _on_need(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        return None

    def _on_anything_else(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        if is_done(text) or (is_no(text) and not kinds):
            return e.goodbye()
        if is_yes(text) and not kinds:
            return e.ask_text("Sure, what can I do for you?", "need")
        return None

    def _answer(self, e: Engine, kind: str, text: str) -> list[Action]:
        s = e.state
        b = e.business
        if kind == "hours":
            line = e.line("hours", hours=b.hours.describe())
        elif kind == "area":
            line = e.line("area", area=b.service_area) if b.service_area else e.line("area_unknown")
        elif kind == "services":
            names = [sv.name + "s" for sv in b.services]
            line = e.line(
                "services", services=", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
            )
        else:
            line = self._prices(e, text)
        if s.outcome.get("action") == "none":
            s.outcome = {"action": "info"}
        if s.awaiting in (None, "need", "anything_else"):
            return e.ask("then_anything", "anything_else", before=[SayAction(line)])
        # Mid-booking: answer, then ask the same question again.
        return [SayAction(f"{line} {s.last_prompt or ''}".strip()), EndOfTurn()]

    def _prices(self, e: Engine, text: str) -> str:
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

    def _refuse(self, e: Engine, key: str) -> list[Action]:
        prompt = e.state.last_prompt or ""
        line = e.line(key)
        if e.state.awaiting in (None, "need", "anything_else"):
            e.state.awaiting = "need"
            return [SayAction(line), EndOfTurn()]
        return [SayAction(f"{line} {prompt}".strip()), EndOfTurn()]

    def _gas(self, e: Engine, text: str) -> list[Action]:
        s = e.state
        s.intent, s.phase = "emergency", Phase.EMERGENCY
        s.details.problem = text
        actions = e.take_message(f"GAS SMELL reported: {text}")
        s.outcome = {"action": "message", "message": f"Gas smell reported: {text}"}
        return [e.say("gas", interruptible=False), *actions, *e.hang_up("gas")]

    # -- booking ---------------------------------------------------------------------------------------
    def _absorb_details(self, e: Engine, text: str) -> None:
        """Pick up whatever details came along with the request ("I'm John, at 12 Oak St, tomorrow at 2")."""
        d = e.state.details
        if not d.name and re.search(r"\b(my name|name'?s|this is|i'?m [A-Z])", text):
            d.name = extract_name(text)
        if not d.address:
            d.address = extract_address(text)
        email = extract_email(text)
        if email:
            d.email = email

    def _start_booking(self, e: Engine, text: str) -> list[Action]:
        s = e.state
        s.intent, s.phase = "book", Phase.DETAILS
        s.chosen, s.hold_id, s.window = None, None, None
        estimate = next((sv for sv in e.business.services if sv.slug == "estimate" or "estimate" in sv.name), None)
        s.service = estimate.slug if wants_estimate(text) and estimate else e.business.default_service().slug
        if describes_problem(text):
            s.details.problem = text
        elif wants_estimate(text):
            s.details.problem = text
        self._absorb_details(e, text)
        window = understand(e, text)
        if window.get("kind") == "window":
            s.window = window
        return self.next_step(e)

    def _start_emergency(self, e: Engine, text: str) -> list[Action]:
        s = e.state
        service = e.business.emergency_service()
        if service is None:
            s.details.urgent = True
            return self._start_booking(e, text)
        s.intent, s.phase, s.service = "emergency", Phase.EMERGENCY, service.slug
        s.details.problem, s.details.urgent = text, True
        self._absorb_details(e, text)
        now = e.now_local()
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        window = {"kind": "window", "start": now.isoformat(), "end": end.isoformat(), "label": "today", "exact": False}
        return [e.search(window, purpose="emergency")]

    def next_step(self, e: Engine) -> list[Action]:
        s = e.state
        d = s.details
        if s.intent == "emergency" and s.chosen is None:
            return [e.search(s.window, purpose="emergency")] if s.window else self._start_emergency(e, d.problem or "")
        if s.intent == "book" and not d.problem:
            return e.ask("ask_problem", "problem")
        if not d.name:
            return e.ask("ask_name", "name")
        if not d.phone_confirmed:
            if d.phone and not e.is_sms:
                return e.ask("confirm_phone", "phone_confirm", last4=last_four(d.phone))
            return e.ask("ask_phone_sms" if e.is_sms else "ask_phone", "phone")
        if not d.address:
            return e.ask("ask_address", "address")
        if s.chosen is None:
            if s.window and s.window.get("kind") == "window":
                s.phase = Phase.FIND_TIME
                return [e.search(s.window, purpose="offer")]
            s.phase = Phase.FIND_TIME
            return e.ask("ask_when", "when")
        if s.hold_id is None:
            return [e.choose(s.chosen)]
        s.phase = Phase.CONFIRM
        return e.readback()

    def _on_problem(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        if any(k in kinds for k in ("hours", "price", "area", "services")):
            return None
        name = _person_name(text) if not describes_problem(text) and len(text.split()) <= 3 else None
        if name and not e.state.details.name:  # they answered with their name: keep it, ask again
            e.state.details.name = name
            return e.ask_text(f"Thanks, {name.split()[0]}. And what seems to be the problem?", "problem")
        e.state.details.problem = text.strip()
        self._absorb_details(e, text)
        window = understand(e, text)
        if window.get("kind") == "window":
            e.state.window = window
        return self.next_step(e)

    def _on_name(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        switching = any(k in kinds for k in ("message", "cancel", "reschedule", "lookup", "emergency"))
        name = None if switching else _person_name(text)
        if not name:
            if kinds:
                return None
            return e.ask("ask_name_again", "name")
        e.state.details.name = name
        if e.state.intent == "message":
            return self._finish_message(e)
        return self.next_step(e)

    def _phone_set(self, e: Engine, number: str) -> list[Action]:
        d = e.state.details
        d.phone, d.phone_confirmed = number, True
        if e.state.intent == "message":
            return self._finish_message(e)
        return self.next_step(e)

    def _on_phone_confirm(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        number = parse_phone_number(text)
        if number:
            return self._phone_set(e, number)
        if is_yes(text):
            e.state.details.phone_confirmed = True
            return self.next_step(e)
        if is_no(text):
            return e.ask("ask_phone", "phone")
        return [SayAction(e.line("yes_or_no")), EndOfTurn()] if not kinds else None

    def _on_phone(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        number = parse_phone_number(text)
        if number:
            return self._phone_set(e, number)
        if kinds:
            return None
        return e.ask("phone_again", "phone")

    def _on_address(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        address = extract_address(text)
        if not address and re.search(r"\d", text) and len(text.split()) >= 2:
            address = text.strip().rstrip(".")
        if not address:
            return None if kinds else [SayAction(e.line("didnt_get", prompt=e.state.last_prompt or "")), EndOfTurn()]
        e.state.details.address = address
        return self.next_step(e)

    def _on_when(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
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
            return self.next_step(e)
        if kind == "ambiguous":
            s.ambiguous = {"text": text, "question": window["question"]}
            return e.ask_text(window["question"], "ambiguous")
        if kind == "past":
            return e.ask_text(window["say"], "when")
        if any(k in kinds for k in ("hours", "price", "area", "services", "cancel", "message")):
            return None
        return e.ask("when_again", "when")

    def _on_ambiguous(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        s = e.state
        from silentpartner.conversation.when_adapter import resolve

        original = (s.ambiguous or {}).get("text", "")
        window = resolve(e, original, text)
        if window.get("kind") != "window":
            window = understand(e, text)
        if window.get("kind") == "window":
            s.ambiguous = None
            if s.intent == "reschedule":
                return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
            s.window = window
            return self.next_step(e)
        ambiguous = s.ambiguous or {}
        if ambiguous.get("asked_again"):  # twice unclear: start the question over
            s.ambiguous = None
            return e.ask("when_again", "when")
        s.ambiguous = {**ambiguous, "asked_again": True}
        return e.ask_text(ambiguous.get("question") or e.line("when_again"), "ambiguous")

    def _offer(self, e: Engine, ids: list[str], *, nearest: bool, prefix: str = "") -> list[Action]:
        s = e.state
        if not ids:
            return e.ask("none_at_all", "message_offer", before=[SayAction(prefix)] if prefix else None)
        options = e.options_text(ids)
        if nearest and s.window and not prefix:
            text = e.line("offer_nearest", label=s.window.get("label") or "then", options=options)
        else:
            text = e.line("offer_one" if len(ids) == 1 else "offer", options=options)
        return e.ask_text(f"{prefix} {text}".strip(), "slot_choice")

    def _on_slot_choice(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        s = e.state
        picked = match_offer(e, text)
        if picked:
            return self._choose(e, picked)
        window = understand(e, _on_offered_day(e, text))
        if window.get("kind") == "window":
            if s.intent == "reschedule":
                return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
            s.window = window
            return [e.search(window, purpose="offer")]
        if window.get("kind") in ("ambiguous", "past"):
            return self._on_when(e, text, kinds)
        if is_yes(text) and len(s.last_offer) == 1:
            return self._choose(e, s.last_offer[0])
        if is_no(text) or rejects_offer(text):
            return e.ask("ask_when", "when", before=[e.say("ok")])
        if kinds and not any(k in kinds for k in ("book",)):
            return None
        return e.ask("pick_again", "slot_choice")

    def _choose(self, e: Engine, slot_id: str) -> list[Action]:
        return [e.choose(slot_id)]

    def _on_emergency_choice(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        s = e.state
        if re.search(r"\b(put me through|transfer|talk to|speak to|call (him|her|the owner))\b", text, re.I):
            return e.transfer("emergency")
        if s.last_offer and (is_yes(text) or re.search(r"\b(book|that one|earliest)\b", text, re.I)):
            return self._choose(e, s.last_offer[0])
        if is_no(text):
            if e.business.allow_emergency_transfer:
                return e.transfer("emergency")
            return e.ask("ask_when", "when")
        return e.ask_text(s.last_prompt or "", "emergency_choice")

    def _on_readback(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        s = e.state
        if s.readback_yes:
            try:
                if s.intent == "reschedule" and s.target_uid:
                    return [e.reschedule(s.target_uid)]
                if s.intent == "cancel" and s.target_uid:
                    return [e.cancel(s.target_uid)]
                s.phase = Phase.BOOK
                return [e.book()]
            except guards.Refused as refused:
                return self._refuse(e, refused.say_key)
        if s.intent == "cancel":
            if is_no(text):
                s.readback_for = None
                return e.ask("anything_else", "anything_else", before=[e.say("kept")])
            return [SayAction(e.line("yes_or_no")), EndOfTurn()]
        correction = self._correct(e, text)
        if correction is not None:
            return correction
        if is_no(text):
            return e.ask("what_change", "change")
        return [SayAction(e.line("yes_or_no")), EndOfTurn()]

    def _on_change(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        correction = self._correct(e, text)
        if correction is not None:
            return correction
        return e.ask("what_change", "change")

    def _correct(self, e: Engine, text: str) -> list[Action] | None:
        """ "No, Thursday" / "no, the name is Jon Smyth" / "it's 45 Oak Street": fix just that part."""
        s = e.state
        d = s.details
        window = understand(e, text)
        if window.get("kind") == "window":
            s.chosen = None  # search() releases the old hold
            if s.intent == "reschedule":
                return [e.search(window, purpose="offer", reschedule_uid=s.target_uid)]
            s.window = window
            return [e.search(window, purpose="offer")]
        address = extract_address(text)
        if address and address != d.address:
            d.address = address
            return e.readback()
        number = parse_phone_number(text)
        if number and number != d.phone:
            d.phone, d.phone_confirmed = number, True
            return e.readback()
        if re.search(r"\b(name|spell|spelled)\b", text, re.I):
            name = extract_name(re.sub(r"^\s*(no|nope)[,.!]?\s*", "", text, flags=re.I))
            if name and name != d.name:
                d.name = name
                return e.readback()
            return e.ask("ask_name_again", "name_fix")
        if window.get("kind") in ("ambiguous", "past"):
            return self._on_when(e, text, [])
        return None

    def _on_name_fix(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        name = extract_name(text)
        if not name:
            return e.ask("ask_name_again", "name_fix")
        e.state.details.name = name
        return e.readback()

    # -- reschedule / cancel / lookup ------------------------------------------------------------------
    def _start_lookup(self, e: Engine, kind: str, text: str) -> list[Action]:
        s = e.state
        s.intent = kind
        s.phase = {"reschedule": Phase.RESCHEDULE, "cancel": Phase.CANCEL}.get(kind, Phase.LOOKUP)
        window = understand(e, text)
        s.window = window if window.get("kind") == "window" else None
        tool = e.load_bookings(kind)
        if tool is None:
            line = "I can only look up appointments for the number you're calling from, and it's withheld."
            s.intent, s.phase = "message", Phase.MESSAGE
            return e.ask("ask_message", "message", before=[SayAction(line)])
        return [tool]

    def _pick_booking(self, e: Engine, text: str) -> str | None:
        s = e.state
        lowered = text.lower()
        for i, pattern in _ORDINALS:
            if re.search(pattern, lowered) and s.bookings:
                return s.bookings[i].uid if i < len(s.bookings) else None
        matches = [
            b for b in s.bookings if _mentions_day(e, lowered, b.start) or _mentions_service(e, lowered, b.service)
        ]
        return matches[0].uid if len(matches) == 1 else None

    def _on_which_booking(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        uid = self._pick_booking(e, text)
        if uid is None:
            return e.ask_text(e.state.last_prompt or "", "which_booking")
        return self._act_on_booking(e, uid)

    def _act_on_booking(self, e: Engine, uid: str) -> list[Action]:
        s = e.state
        s.target_uid = uid
        booking = next(b for b in s.bookings if b.uid == uid)
        s.service = booking.service
        what = e.service_name(booking.service)
        if s.intent == "cancel":
            s.readback_for, s.readback_yes = f"cancel:{uid}", False
            return e.ask("ask_cancel", "readback", what=what, when=booking.label)
        if s.window and not _names_booking_day(e, s.window, booking.start):
            window, s.window = s.window, None
            return [e.search(window, purpose="offer", reschedule_uid=uid)]
        s.window = None
        return e.ask("ask_reschedule_when", "when", what=what, when=booking.label)

    def _on_offer_book(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        if is_yes(text) or "book" in kinds:
            e.state.window = None
            return self._start_booking(e, text)
        if is_no(text) or is_done(text):
            return e.ask("anything_else", "anything_else", before=[e.say("ok")])
        return None

    # -- messages ---------------------------------------------------------------------------------------
    def _on_message(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        s = e.state
        s.message = text.strip()
        s.intent = "message"
        if not s.details.name:
            return e.ask("ask_name", "name")
        return self._finish_message(e)

    def _finish_message(self, e: Engine) -> list[Action]:
        s = e.state
        if not s.details.phone:
            return e.ask("ask_phone", "phone")
        actions = e.take_message(s.message or "")
        s.intent = None
        return e.ask("anything_else", "anything_else", before=[*actions, e.say("message_taken")])

    def _on_message_offer(self, e: Engine, text: str, kinds: list[str]) -> list[Action] | None:
        if is_yes(text):
            e.state.intent, e.state.phase = "message", Phase.MESSAGE
            return e.ask("ask_message", "message")
        if is_no(text):
            return e.ask("anything_else", "anything_else", before=[e.say("ok")])
        return None

    # -- tool results -----------------------------------------------------------------------------------
    def after_tool(self, e: Engine, name: str, purpose: str, result: dict[str, Any]) -> list[Action]:
        s = e.state
        if name == "find_slots":
            if purpose == "emergency":
                return self._emergency_offer(e)
            return self._offer(e, s.last_offer, nearest=bool(result.get("nearest")))
        if result.get("unavailable"):
            return self._offer(e, s.last_offer, nearest=False, prefix=e.line("slot_taken", rest="").strip())
        if result.get("refused"):
            return self._refuse(e, "refuse_rules")
        if name == "hold_slot":
            return self.next_step(e) if s.intent != "reschedule" else e.readback()
        if name == "book":
            booking = result["booking"]
            when = e.label(booking["start"])
            booked = e.say(
                "booked",
                interruptible=False,
                what=e.with_article(booking["service"]),
                when=when,
                last4=last_four(booking.get("phone") or ""),
            )
            return e.ask("anything_else", "anything_else", before=[booked])
        if name == "reschedule":
            booking = result["booking"]
            line = e.say(
                "rescheduled",
                interruptible=False,
                what=e.service_name(booking["service"]),
                when=e.label(booking["start"]),
            )
            return e.ask("anything_else", "anything_else", before=[line])
        if name == "cancel":
            booking = result["booking"]
            line = e.say(
                "cancelled",
                interruptible=False,
                what=e.service_name(booking["service"]),
                when=e.label(booking["start"]),
            )
            return e.ask("anything_else", "anything_else", before=[line])
        if name == "my_bookings":
            return self._bookings_loaded(e)
        if name == "owner_schedule":
            return self._owner_schedule(e, result.get("bookings", []), result.get("day"))
        return []

    def _emergency_offer(self, e: Engine) -> list[Action]:
        s = e.state
        allow = e.business.allow_emergency_transfer and not e.is_sms
        if not s.last_offer:
            if allow:
                return [e.say("emergency_none"), *e.transfer("emergency")]
            s.intent, s.phase = "message", Phase.MESSAGE
            return e.ask("ask_message", "message", before=[e.say("emergency_none")])
        first = s.offered[s.last_offer[0]]
        s.last_offer = [first.id]
        transfer = e.line("emergency_transfer_option") if allow else ""
        return e.ask("emergency_offer", "emergency_choice", when=first.label, transfer=transfer)

    def _bookings_loaded(self, e: Engine) -> list[Action]:
        s = e.state
        if not s.bookings:
            return e.ask("no_bookings", "offer_book")
        if s.intent == "lookup":
            if s.outcome.get("action") == "none":
                s.outcome = {"action": "info"}
            if len(s.bookings) == 1:
                b = s.bookings[0]
                line = e.say("your_booking", what=e.service_name(b.service), when=b.label)
            else:
                listed = "; ".join(f"{e.with_article(b.service)} {b.label}" for b in s.bookings)
                line = e.say("your_bookings", count=len(s.bookings), list=listed)
            return e.ask("anything_else", "anything_else", before=[line])
        if len(s.bookings) == 1:
            return self._act_on_booking(e, s.bookings[0].uid)
        named = [b for b in s.bookings if s.window and _names_booking_day(e, s.window, b.start)]
        if len(named) == 1:  # "my appointment on Thursday"
            return self._act_on_booking(e, named[0].uid)
        listed = " and ".join(f"{e.with_article(b.service)} {b.label}" for b in s.bookings)
        return e.ask("which_booking", "which_booking", list=listed)

    def _owner_schedule(self, e: Engine, bookings: list[dict[str, Any]], day_iso: str | None = None) -> list[Action]:
        today = e.now_local().date()
        day = datetime.fromisoformat(day_iso).date() if day_iso else today
        day_words = spoken_day(day, today)
        day_words = day_words if day_words in ("today", "tomorrow") else f"on {day_words}"
        if not bookings:
            line = e.line("owner_none", day=day_words)
        else:
            first = bookings[0]
            start = datetime.fromisoformat(first["start"]).astimezone(e.business.tz)
            detail = f", first at {clock(start)} with {first.get('name') or 'a customer'}"
            if first.get("address"):
                detail += f" at {first['address']}"
            tz = e.business.tz
            rest = [
                f"{clock(datetime.fromisoformat(b['start']).astimezone(tz))} with {b.get('name') or 'a customer'}"
                for b in bookings[1:]
            ]
            if rest:
                detail += ", then " + ", ".join(rest)
            count = "one appointment" if len(bookings) == 1 else f"{len(bookings)} appointments"
            line = e.line("owner_schedule", count=count, first=detail, day=day_words)
        first_turn = e.state.awaiting is None
        greeting = f"Hi {e.owner_name}. " if first_turn else ""
        return e.ask("anything_else", "anything_else", before=[SayAction(greeting + line)])


def _on_offered_day(e: Engine, text: str) -> str:
    """ "noon" after "Saturday at 9, 10 or 11" means Saturday at noon, not today."""
    lowered = text.lower()
    if not _times_in(text):
        return text
    if any(d.lower() in lowered for d in DAY_NAMES) or re.search(
        r"\b(today|tomorrow|next|week|\d+(st|nd|rd|th))\b", lowered
    ):
        return text
    offered = [e.state.offered[i] for i in e.state.last_offer if i in e.state.offered]
    days = {datetime.fromisoformat(o.start).astimezone(e.business.tz).date() for o in offered}
    if len(days) != 1:
        return text
    day = days.pop()
    if day == e.now_local().date():
        return text
    return f"{day:%B} {day.day} {text}"


_NOT_A_NAME = frozenset({"actually", "well", "okay", "ok", "so", "um", "uh", "hmm", "sorry", "yeah", "hello", "hi"})


def _person_name(text: str) -> str | None:
    """`extract_name`, minus the fillers a caller starts a sentence with ("Actually, ...")."""
    name = extract_name(text)
    if name and name.split()[0].lower() in _NOT_A_NAME:
        return None
    return name


def _asks_for_owner(e: Engine, text: str) -> bool:
    """ "Can I talk to Mike?" with the owner's own name."""
    name = re.escape(e.owner_name.lower())
    return bool(re.search(rf"\b(talk|speak) (to|with) {name}\b", text.lower()))


def _too_far(e: Engine, window: dict[str, Any]) -> bool:
    limit = e.now_local() + timedelta(days=e.business.booking_window_days)
    return datetime.fromisoformat(window["start"]) > limit


def _names_booking_day(e: Engine, window: dict[str, Any], booking_start: str) -> bool:
    """A day the caller said that is the day of their booking ("my Thursday appointment")."""
    start = datetime.fromisoformat(booking_start).astimezone(e.business.tz)
    begin = datetime.fromisoformat(window["start"]).astimezone(e.business.tz)
    end = datetime.fromisoformat(window["end"]).astimezone(e.business.tz)
    return begin.date() <= start.date() <= (end - timedelta(microseconds=1)).date() and not window.get("exact")


def _mentions_service(e: Engine, lowered: str, slug: str) -> bool:
    words = [w for w in e.service_name(slug).lower().split() if len(w) > 4]
    return any(re.search(rf"\b{re.escape(w)}", lowered) for w in words)


def _mentions_day(e: Engine, lowered: str, start_iso: str) -> bool:
    start = datetime.fromisoformat(start_iso).astimezone(e.business.tz)
    today = e.now_local().date()
    if "today" in lowered and start.date() == today:
        return True
    if "tomorrow" in lowered and start.date() == today + timedelta(days=1):
        return True
    return DAY_NAMES[start.weekday()].lower() in lowered


def _times_in(text: str) -> list[tuple[int, int | None, str | None]]:
    found: list[tuple[int, int | None, str | None]] = []
    for m in _CLOCK.finditer(text):
        hour = int(m.group(1))
        if 1 <= hour <= 23:
            ampm = (m.group(3) or "").lower().replace(".", "") or None
            found.append((hour, int(m.group(2)) if m.group(2) else None, ampm))
    for m in _WORD_CLOCK.finditer(text):
        hour = _HOUR_WORDS[m.group(1).lower()]
        minute = _MINUTE_WORDS.get((m.group(2) or "").lower().replace("-", " "))
        suffix = (m.group(3) or "").lower()
        ampm = "am" if "morning" in suffix or suffix.startswith("a") else "pm" if suffix else None
        found.append((hour, minute, ampm))
    if re.search(r"\bnoon\b", text, re.I):
        found.append((12, 0, "pm"))
    return found


def match_offer(e: Engine, text: str) -> str | None:
    """Which of the slots just offered the caller picked: "the first one", "2 PM", "Thursday", "the 9:30"."""
    s = e.state
    offer = [s.offered[i] for i in s.last_offer if i in s.offered]
    if not offer:
        return None
    lowered = text.lower()
    for index, pattern in _ORDINALS:
        if re.search(pattern, lowered):
            if index < len(offer):
                return offer[index].id
    candidates = offer
    day_matches = [o for o in offer if _mentions_day(e, lowered, o.start)]
    mentions_any_day = any(d.lower() in lowered for d in DAY_NAMES) or "today" in lowered or "tomorrow" in lowered
    if mentions_any_day:
        candidates = day_matches
    times = _times_in(text)
    if times:
        timed = []
        for o in candidates:
            local = datetime.fromisoformat(o.start).astimezone(e.business.tz)
            for hour, minute, ampm in times:
                h12 = local.hour % 12 or 12
                hour_ok = hour == local.hour or (hour <= 12 and hour == h12)
                minute_ok = minute is None or minute == local.minute
                ampm_ok = ampm is None or (ampm == "am") == (local.hour < 12)
                if hour_ok and minute_ok and ampm_ok:
                    timed.append(o)
                    break
        candidates = timed
    if (times or mentions_any_day) and len(candidates) == 1:
        return candidates[0].id
    if not times and not mentions_any_day and len(offer) == 1 and is_yes(text):
        return offer[0].id
    return None


__all__ = ["RulesBrain", "match_offer"]
