"""The sans-I/O conversation engine: events in, actions out, no sockets, no awaits.

`Engine.handle(event) -> list[Action]`. The engine owns the conversation state (phase, caller details,
slots offered here, the read-back and whether the caller said yes to it, the caller's own bookings)
and the guarded capabilities a brain may use (`search`, `choose`, `book`, `cancel`, ...). Each
capability checks `guards.py` before it emits a `RunTool`; the driver runs the tool and feeds the
result back as a `ToolResult`, which the engine absorbs (slot ids, holds, outcome, confirmation texts)
before the brain decides what to say next.

With the rules brain (the default) the whole conversation happens here, synchronously, so a phone call
can be tested as a list of events. A chat brain (`external_brain=True`) makes its decisions in the
driver and calls the same capabilities.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from silentpartner.business import Business
from silentpartner.clock import Clock
from silentpartner.conversation import guards
from silentpartner.conversation.details import KnownBooking, OfferedSlot, State
from silentpartner.conversation.events import (
    Action,
    AgentInterrupted,
    CallEnded,
    CallerSaid,
    CallStarted,
    EndOfTurn,
    Event,
    HangUp,
    KeysPressed,
    RunTool,
    SendSms,
    Silence,
    ToolResult,
    Transfer,
)
from silentpartner.conversation.events import Say as SayAction
from silentpartner.conversation.phases import Phase
from silentpartner.conversation.replies import Replies
from silentpartner.conversation.spoken.yes_no import is_yes
from silentpartner.speech_text import clock as clock_label
from silentpartner.speech_text import spoken_day, spoken_slot, text_slot

if TYPE_CHECKING:
    from silentpartner.conversation.rules.brain import RulesBrain

OUTCOME_BOOKING_KEYS = ("uid", "service", "start", "end", "name", "phone", "address", "notes", "team_member")


class Engine:
    def __init__(
        self,
        business: Business,
        clock: Clock,
        caller: str | None = None,
        *,
        call_id: str = "call",
        channel: str = "phone",
        seed: int | None = None,
        external_brain: bool = False,
        state: State | None = None,
        replies_count: int = 0,
    ) -> None:
        self.business = business
        self.clock = clock
        self.state = state or State(business=business.slug, call_id=call_id, channel=channel, caller=caller)
        self.replies = Replies(seed, replies_count)
        self.external_brain = external_brain
        self.last_result: dict[str, Any] | None = None  # the latest absorbed tool result, for a chat brain
        self._brain: RulesBrain | None = None
        if not external_brain:
            from silentpartner.conversation.rules.brain import RulesBrain

            self._brain = RulesBrain()

    # -- facts the brains use ------------------------------------------------------------------------
    @property
    def owner_name(self) -> str:
        return self.business.team[0].name if self.business.team else "the owner"

    @property
    def is_sms(self) -> bool:
        return self.state.channel == "sms"

    def now_local(self) -> datetime:
        return self.clock.now().astimezone(self.business.tz)

    def label(self, start_iso: str) -> str:
        return spoken_slot(datetime.fromisoformat(start_iso).astimezone(self.business.tz), self.now_local().date())

    def service_name(self, slug: str | None) -> str:
        try:
            return self.business.service(slug or "").name
        except KeyError:
            return self.business.default_service().name

    def options_text(self, ids: list[str]) -> str:
        """ "tomorrow at 9 AM, 11 AM or 2 PM" when they share a day, else each label in full."""
        slots = [self.state.offered[i] for i in ids if i in self.state.offered]
        if not slots:
            return ""
        starts = [datetime.fromisoformat(o.start).astimezone(self.business.tz) for o in slots]
        if len(slots) > 1 and len({d.date() for d in starts}) == 1:
            day = spoken_day(starts[0].date(), self.now_local().date())
            times = [clock_label(d) for d in starts]
            return f"{day} at " + ", ".join(times[:-1]) + f" or {times[-1]}"
        labels = [o.label for o in slots]
        return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" or {labels[-1]}"

    def with_article(self, slug: str | None) -> str:
        name = self.service_name(slug)
        return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"

    # -- the event loop ------------------------------------------------------------------------------
    def handle(self, event: Event) -> list[Action]:
        s = self.state
        if s.finished and not isinstance(event, CallEnded):
            return []
        if isinstance(event, CallStarted):
            s.business = event.business or s.business
            s.call_id = event.call_id
            s.channel = event.channel
            s.caller = event.caller
            s.forwarded_from = event.forwarded_from
            s.is_owner = event.is_owner or self.business.is_owner(event.caller)
            s.known_customer = event.known_customer
            s.details.phone = event.caller
            if event.channel == "sms" and event.caller:
                s.details.phone_confirmed = True  # they are texting from it
            s.phase = Phase.OWNER if s.is_owner else Phase.NEED
            if s.is_owner:
                return [self.owner_schedule()]
            return self._brain.start(self) if self._brain else self.greeting()
        if isinstance(event, CallerSaid):
            if not event.final or not event.text.strip():
                return []
            s.silences = 0
            if s.awaiting == "readback":
                # The explicit yes is judged here, in code, from the caller's own words.
                s.readback_yes = is_yes(event.text)
            return self._brain.said(self, event.text) if self._brain else []
        if isinstance(event, KeysPressed):
            s.silences = 0
            return self._brain.keys(self, event.digits) if self._brain else []
        if isinstance(event, ToolResult):
            return self._result(event)
        if isinstance(event, Silence):
            return self._silence()
        if isinstance(event, AgentInterrupted):
            return []
        if isinstance(event, CallEnded):
            s.finished = True
            s.phase = Phase.DONE
            return []
        return []

    def greeting(self) -> list[Action]:
        s = self.state
        values = {"business": self.business.name, "agent": self.business.assistant_name, "owner": self.owner_name}
        if s.channel == "sms":
            return []  # a text thread starts with the customer's own text; the reply answers it
        key = "greet_forwarded" if s.forwarded_from else ("greet_known" if s.known_customer else "greet")
        if self.business.greeting and not s.forwarded_from:
            text = self.business.greeting
            s.awaiting, s.last_prompt = "need", text
            return [SayAction(text), EndOfTurn()]
        return self.ask(key, "need", **values)

    def _silence(self) -> list[Action]:
        s = self.state
        if s.channel == "sms" or s.pending_tool:
            return []
        s.silences += 1
        if s.silences == 1:
            prompt = s.last_prompt or ""
            return [SayAction(f"{self.replies.line('still_there')} {prompt}".strip()), EndOfTurn()]
        return [SayAction(self.replies.line("silence_bye"), interruptible=False), *self.hang_up("silence")]

    # -- speaking ------------------------------------------------------------------------------------
    def line(self, key: str, **values: Any) -> str:
        values.setdefault("business", self.business.name)
        values.setdefault("agent", self.business.assistant_name)
        values.setdefault("owner", self.owner_name)
        return self.replies.line(key, **values)

    def say(self, key: str, *, interruptible: bool = True, **values: Any) -> SayAction:
        return SayAction(self.line(key, **values), interruptible=interruptible)

    def ask(self, key: str, awaiting: str, *, before: list[Action] | None = None, **values: Any) -> list[Action]:
        text = self.line(key, **values)
        self.state.awaiting = awaiting
        self.state.last_prompt = text
        return [*(before or []), SayAction(text), EndOfTurn()]

    def ask_text(self, text: str, awaiting: str, *, interruptible: bool = True) -> list[Action]:
        self.state.awaiting = awaiting
        self.state.last_prompt = text
        return [SayAction(text, interruptible=interruptible), EndOfTurn()]

    # -- guarded capabilities (both brains use these) ------------------------------------------------
    def run_tool(self, tool: str, purpose: str, /, **args: Any) -> RunTool:
        s = self.state
        s.tool_seq += 1
        call_id = f"{s.call_id}:t{s.tool_seq}"
        s.pending_tool = {"call_id": call_id, "name": tool, "purpose": purpose}
        return RunTool(call_id=call_id, name=tool, arguments=args)

    def search(self, window: dict[str, Any], *, purpose: str = "offer", reschedule_uid: str | None = None) -> RunTool:
        s = self.state
        s.window = window
        s.chosen = None
        s.readback_for, s.readback_yes = None, False
        service = s.service or self.business.default_service().slug
        args: dict[str, Any] = {
            "service": service,
            "start": window["start"],
            "end": window["end"],
            "exact": bool(window.get("exact")),
            "not_before": self.clock.now().isoformat(),
        }
        if reschedule_uid:
            args["reschedule_uid"] = reschedule_uid
        if s.hold_id:
            args["release_hold"], s.hold_id = s.hold_id, None
        return self.run_tool("find_slots", purpose, **args)

    def choose(self, slot_id: str) -> RunTool:
        s = self.state
        guards.offered_slot(s, slot_id)
        release = s.hold_id
        s.chosen, s.hold_id = slot_id, None
        s.readback_for, s.readback_yes = None, False
        args: dict[str, Any] = {"slot": self._slot_args(s.offered[slot_id]), "holder": s.call_id}
        if release:
            args["release_hold"] = release
        return self.run_tool("hold_slot", "hold", **args)

    def readback(self) -> list[Action]:
        """Read back what matters; the next caller turn decides `readback_yes`."""
        s = self.state
        slot = s.offered[s.chosen or ""]
        s.readback_for, s.readback_yes = slot.id, False
        if s.intent == "reschedule":
            old = next((b for b in s.bookings if b.uid == s.target_uid), None)
            text = self.line(
                "readback_reschedule",
                what=self.service_name(slot.service),
                old=old.label if old else "",
                when=slot.label,
            )
        else:
            service = self.business.service(slot.service)
            deposit = self.line("deposit", amount=service.deposit) if service.takes_deposit else ""
            text = self.line(
                "readback",
                what=self.with_article(slot.service),
                when=slot.label,
                address=s.details.address or "your address",
                name=s.details.name or "you",
                deposit=deposit,
            )
        return self.ask_text(text, "readback", interruptible=False)

    def book(self) -> RunTool:
        s = self.state
        guards.can_book(s, s.chosen or "")
        slot = s.offered[s.chosen or ""]
        d = s.details
        return self.run_tool(
            "book",
            "book",
            slot=self._slot_args(slot),
            name=d.name,
            phone=d.phone,
            address=d.address,
            notes=d.problem,
            email=d.email,
            hold_id=s.hold_id,
            call_id=s.call_id,
            source="sms" if self.is_sms else ("simulate" if s.channel == "simulate" else "call"),
        )

    def load_bookings(self, purpose: str) -> RunTool | None:
        """The caller's own bookings, looked up by the number they call from (None when withheld)."""
        if not self.state.caller:
            return None
        return self.run_tool("my_bookings", purpose, phone=self.state.caller)

    def cancel(self, uid: str) -> RunTool:
        guards.can_cancel(self.state, uid)
        return self.run_tool("cancel", "cancel", uid=uid, phone=self.state.caller)

    def reschedule(self, uid: str) -> RunTool:
        s = self.state
        guards.can_reschedule(s, uid, s.chosen or "")
        slot = s.offered[s.chosen or ""]
        return self.run_tool(
            "reschedule", "reschedule", uid=uid, phone=s.caller, slot=self._slot_args(slot), hold_id=s.hold_id
        )

    def owner_schedule(self, day: datetime | None = None) -> RunTool:
        guards.is_owner(self.state)
        local = (day or self.now_local()).astimezone(self.business.tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # The next local midnight, built on the wall clock so a DST day keeps its true length.
        end = datetime.combine(start.date() + timedelta(days=1), start.time(), tzinfo=self.business.tz)
        return self.run_tool("owner_schedule", "owner", start=start.isoformat(), end=end.isoformat())

    def take_message(self, text: str) -> list[Action]:
        s = self.state
        s.message = text
        if s.outcome.get("action") in ("none", "info"):
            s.outcome = {"action": "message", "message": text}
        who = s.details.name or "A caller"
        number = s.details.phone or s.caller or "no number"
        body = f"Message from {who} ({number}): {text}"
        return [SendSms(to=self.business.owner_mobile, body=body, kind="owner_message")]

    def transfer(self, reason: str = "caller asked") -> list[Action]:
        s = self.state
        s.phase = Phase.TRANSFER
        if s.outcome.get("action") in ("none", "info"):
            s.outcome = {"action": "transferred"}
        if self.is_sms:
            who = s.details.name or s.caller or "A customer"
            return [
                SendSms(
                    to=self.business.owner_mobile, body=f"{who} asked to talk to you ({reason}).", kind="owner_callback"
                ),
                *self.ask("transfer_sms", "anything_else"),
            ]
        # On a call the transfer ends our part of the conversation.
        s.finished = True
        return [self.say("transfer", interruptible=False), Transfer(number=self.business.owner_mobile, reason=reason)]

    def hang_up(self, reason: str = "done") -> list[Action]:
        self.state.finished = True
        self.state.phase = Phase.DONE
        return [HangUp(reason=reason)]

    def goodbye(self) -> list[Action]:
        key = "goodbye_sms" if self.is_sms else "goodbye"
        return [self.say(key, interruptible=False), *self.hang_up()]

    # -- tool results --------------------------------------------------------------------------------
    def _result(self, event: ToolResult) -> list[Action]:
        s = self.state
        pending = s.pending_tool or {}
        if pending.get("call_id") != event.call_id:
            return []  # late or unknown: never acted on twice
        s.pending_tool = None
        purpose = pending.get("purpose", "")
        if event.error is not None or (event.result or {}).get("error"):
            self.last_result = {"error": "the calendar could not be reached"}
            return self._tool_failed(event.name)
        result = event.result or {}
        outward = self._absorb(event.name, result)
        self.last_result = self._for_brain(event.name, result)
        if self._brain is None:
            if purpose == "owner":  # the owner's schedule opens their call, whichever brain runs it
                from silentpartner.conversation.rules.brain import RulesBrain

                return [*outward, *RulesBrain().after_tool(self, event.name, purpose, result)]
            return outward
        return [*outward, *self._brain.after_tool(self, event.name, purpose, result)]

    def _tool_failed(self, name: str) -> list[Action]:
        s = self.state
        d = s.details
        summary = f"{d.name or 'A caller'} ({d.phone or s.caller or 'no number'})"
        if d.problem:
            summary += f" about: {d.problem}"
        if d.address:
            summary += f" at {d.address}"
        text = f"The receptionist couldn't reach the calendar ({name}). Please call back {summary}."
        actions: list[Action] = [SendSms(to=self.business.owner_mobile, body=text, kind="owner_summary")]
        if s.outcome.get("action") in ("none", "info"):
            s.outcome = {"action": "message", "message": f"Calendar unavailable; call back {summary}"}
        if self._brain is None:
            return actions
        return [*actions, *self.ask("anything_else", "anything_else", before=[self.say("tool_failed")])]

    def register_slots(self, slots: list[dict[str, Any]]) -> list[str]:
        """Give each offered slot an opaque id that only means something in this conversation."""
        s = self.state
        ids = []
        for slot in slots:
            existing = next(
                (o.id for o in s.offered.values() if o.start == slot["start"] and o.service == slot["service"]), None
            )
            if existing:
                ids.append(existing)
                continue
            s.slot_seq += 1
            digest = hashlib.sha256(f"{s.call_id}:{s.slot_seq}:{slot['calendar_id']}".encode()).hexdigest()[:6]
            slot_id = f"s{s.slot_seq}{digest}"
            s.offered[slot_id] = OfferedSlot(
                id=slot_id,
                calendar_id=slot["calendar_id"],
                service=slot["service"],
                start=slot["start"],
                end=slot["end"],
                team_member=slot.get("team_member"),
                label=self.label(slot["start"]),
            )
            ids.append(slot_id)
        s.last_offer = ids
        return ids

    def _absorb(self, name: str, result: dict[str, Any]) -> list[Action]:
        s = self.state
        if "slots" in result:
            self.register_slots(result["slots"])
        if result.get("unavailable"):
            if s.chosen:
                s.offered.pop(s.chosen, None)
            s.chosen, s.hold_id = None, None
            s.readback_for, s.readback_yes = None, False
            self.register_slots(result.get("alternatives", []))
            return []
        if name == "hold_slot" and "hold_id" in result:
            s.hold_id = result["hold_id"]
        if name == "my_bookings":
            s.bookings = [
                KnownBooking(
                    uid=b["uid"],
                    service=b["service"],
                    start=b["start"],
                    end=b["end"],
                    label=self.label(b["start"]),
                    name=b.get("name"),
                    address=b.get("address"),
                )
                for b in result.get("bookings", [])
                if b.get("phone") == s.caller
            ]
            s.bookings_loaded = True
        if name == "owner_schedule" and s.outcome.get("action") == "none":
            s.outcome = {"action": "info"}
        booking = result.get("booking")
        if booking and name in ("book", "reschedule", "cancel"):
            return self._booking_changed(name, booking)
        return []

    def _booking_changed(self, name: str, booking: dict[str, Any]) -> list[Action]:
        s = self.state
        action = {"book": "booked", "reschedule": "rescheduled", "cancel": "cancelled"}[name]
        s.outcome = {"action": action, "booking": {k: booking.get(k) for k in OUTCOME_BOOKING_KEYS}}
        s.readback_for, s.readback_yes, s.hold_id = None, False, None
        s.chosen, s.window, s.target_uid = None, None, None  # a second request in the same call starts clean
        s.bookings_loaded = False  # the caller's list changed; look it up again when next needed
        start = datetime.fromisoformat(booking["start"])
        what = self.service_name(booking["service"])
        to = booking.get("phone") or s.caller
        actions: list[Action] = []
        if to:
            if name == "cancel":
                body = f"{self.business.name}: your {what} on {text_slot(start)} is cancelled."
            elif name == "reschedule":
                body = f"{self.business.name}: your {what} is moved to {text_slot(start)}."
            else:
                body = f"{self.business.name}: you're booked for a {what} on {text_slot(start)}"
                body += f" at {booking['address']}." if booking.get("address") else "."
            body += " Reply to this text to change it."
            kind = "confirmation" if name == "book" else name
            actions.append(SendSms(to=to, body=body, kind=kind, booking_uid=booking["uid"]))
            service = self.business.service(booking["service"]) if name == "book" else None
            if service is not None and service.takes_deposit:
                link = booking.get("payment_link")
                pay = f"pay it here: {link}" if link else f"{self.owner_name} will send you a way to pay it"
                deposit_body = f"{self.business.name}: your booking needs a ${service.deposit:.0f} deposit — {pay}"
                actions.append(SendSms(to=to, body=deposit_body, kind="payment_link", booking_uid=booking["uid"]))
        owner_note = (
            f"{action.capitalize()}: {what} {text_slot(start)} — {booking.get('name') or ''} {to or ''}".strip()
        )
        actions.append(
            SendSms(to=self.business.owner_mobile, body=owner_note, kind="owner_summary", booking_uid=booking["uid"])
        )
        if name == "book":
            s.phase = Phase.WRAP_UP
        return actions

    def _for_brain(self, name: str, result: dict[str, Any]) -> dict[str, Any]:
        """What a chat brain is told: opaque slot ids with labels, never the calendar's own ids."""
        s = self.state
        if "slots" in result or result.get("unavailable"):
            out: dict[str, Any] = {
                "slots": [{"slot_id": i, "label": s.offered[i].label} for i in s.last_offer if i in s.offered]
            }
            if result.get("unavailable"):
                out["unavailable"] = "that time was just taken"
            elif result.get("nearest"):
                out["note"] = "nothing free in the asked-for window; these are the nearest"
            return out
        if name == "hold_slot":
            return {"held": True, "read_back": s.last_prompt}
        if name in ("my_bookings", "owner_schedule"):
            return {"bookings": [self._brief(b) for b in result.get("bookings", [])]}
        if "refused" in result:
            return {"refused": result["refused"]}
        if "booking" in result:
            return {"done": s.outcome.get("action"), "booking": self._brief(result["booking"])}
        return result

    def _brief(self, booking: dict[str, Any]) -> dict[str, Any]:
        return {
            "uid": booking["uid"],
            "service": self.service_name(booking["service"]),
            "when": self.label(booking["start"]),
            "name": booking.get("name"),
        }

    def _slot_args(self, slot: OfferedSlot) -> dict[str, Any]:
        return {
            "calendar_id": slot.calendar_id,
            "service": slot.service,
            "start": slot.start,
            "end": slot.end,
            "team_member": slot.team_member,
        }

    # -- persistence ---------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {"state": self.state.to_dict(), "seed": self.replies.seed, "replies": self.replies.count}

    @classmethod
    def from_state(
        cls, data: dict[str, Any], business: Business, clock: Clock, *, external_brain: bool = False
    ) -> Engine:
        state = State.from_dict(data["state"])
        engine = cls(
            business,
            clock,
            state.caller,
            call_id=state.call_id,
            channel=state.channel,
            seed=data.get("seed"),
            external_brain=external_brain,
            state=state,
            replies_count=data.get("replies", 0),
        )
        # Spoken labels are relative ("tomorrow"): a thread picked up on another day says them afresh.
        for item in [*state.offered.values(), *state.bookings]:
            item.label = engine.label(item.start)
        return engine
