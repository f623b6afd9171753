"""The sans-I/O conversation: events in, actions out, no sockets, no awaits.

`ConversationMachine.handle(event) -> list[Action]`. The machine owns the conversation's memory (state, caller
details, slots offered here, the read-back and the caller's yes to it, the caller's own bookings) and the
guarded capabilities a brain may use (`search`, `choose`, `book`, `cancel`, ...; see `capabilities.py`). Each
capability checks `guards.py` before it emits a `RunTool`; the driver runs the tool and feeds the result back as
a `ToolResult`, which the machine absorbs (slot ids, holds, outcome, confirmation texts) before the brain decides
what to say next.

With the rules brain (the default) every caller turn is read once into a `Reading` and handled here,
synchronously, so a phone call can be tested as a list of events. A chat brain (`external_brain=True`) makes its
decisions in the driver and calls the same capabilities.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from silentpartner.business import Business
from silentpartner.clock import Clock
from silentpartner.conversation import guards, shapes, tool_results, wording
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
    Outcome,
    RunTool,
    Say,
    SendSms,
    Silence,
    ToolResult,
    Transfer,
)
from silentpartner.conversation.memory import Memory, PendingTool
from silentpartner.conversation.reading import ReadContext, Reading, read
from silentpartner.conversation.replies import Replies
from silentpartner.conversation.rules import owner
from silentpartner.conversation.rules.router import RulesBrain
from silentpartner.conversation.states import Flow, State, check_move, expects
from silentpartner.conversation.when import TimeWindow
from silentpartner.phones import last_four
from silentpartner.speech_text import clock as clock_label
from silentpartner.speech_text import spoken_day, spoken_slot

OUTCOME_BOOKING_KEYS = ("uid", "service", "start", "end", "name", "phone", "address", "notes", "team_member")


class ConversationMachine:
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
        memory: Memory | None = None,
        replies_count: int = 0,
        owner_pin: str | None = None,
    ) -> None:
        self.business = business
        self.clock = clock
        # The owner's PIN, from the environment (never kept in memory, which a text thread stores).
        self.owner_pin = owner_pin
        self.memory = memory or Memory(business=business.slug, call_id=call_id, channel=channel, caller=caller)
        self.replies = Replies(seed, replies_count)
        self.external_brain = external_brain
        self.last_result: dict[str, Any] | None = None  # the latest absorbed tool result, for a chat brain
        self._rules = RulesBrain()

    # -- facts the brains use ------------------------------------------------------------------------
    @property
    def owner_name(self) -> str:
        return self.business.owner_name

    @property
    def is_sms(self) -> bool:
        return self.memory.channel == "sms"

    def now_local(self) -> datetime:
        return self.clock.now().astimezone(self.business.tz)

    def today(self) -> date:
        return self.now_local().date()

    def label(self, start: datetime) -> str:
        return spoken_slot(start.astimezone(self.business.tz), self.today())

    def service_name(self, slug: str | None) -> str:
        try:
            return self.business.service(slug or "").name
        except KeyError:
            return self.business.default_service().name

    def with_article(self, slug: str | None) -> str:
        name = self.service_name(slug)
        return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"

    def last4(self, number: str | None) -> str:
        """The last four digits as they should reach the caller: "0123" in a text, "zero one two three" aloud."""
        digits = last_four(number or "")
        return digits if self.is_sms else wording.digits_as_words(digits)

    def options_text(self, ids: Sequence[str]) -> str:
        """ "tomorrow at 9 AM, 11 AM or 2 PM" when they share a day, else each label in full."""
        slots = [self.memory.offered[i] for i in ids if i in self.memory.offered]
        if not slots:
            return ""
        starts = [o.start.astimezone(self.business.tz) for o in slots]
        if len(slots) > 1 and len({d.date() for d in starts}) == 1:
            day = spoken_day(starts[0].date(), self.today())
            times = [clock_label(d) for d in starts]
            return f"{day} at " + ", ".join(times[:-1]) + f" or {times[-1]}"
        labels = [o.label for o in slots]
        return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" or {labels[-1]}"

    def read(self, text: str) -> Reading:
        m = self.memory
        context = ReadContext(
            state=m.state,
            now=self.clock.now(),
            business=self.business,
            owner_name=self.owner_name,
            offered=tuple(m.offered[i] for i in m.last_offer if i in m.offered),
            bookings=tuple(m.bookings),
            ambiguous=m.ambiguous if m.state == State.WHEN_WHICH else None,
            rescheduling=m.flow == Flow.RESCHEDULE,
            runs_the_day=m.runs_the_day,
        )
        return read(text, context)

    # -- the event loop ------------------------------------------------------------------------------
    def handle(self, event: Event) -> list[Action]:
        m = self.memory
        if m.finished and not isinstance(event, CallEnded):
            return []
        actions = self._dispatch(event)
        return self._never_twice(actions)

    def _dispatch(self, event: Event) -> list[Action]:
        m = self.memory
        if isinstance(event, CallStarted):
            m.business = event.business or m.business
            m.call_id = event.call_id
            m.channel = event.channel
            m.caller = event.caller
            m.forwarded_from = event.forwarded_from
            m.is_owner = event.is_owner or self.business.is_owner(event.caller)
            member = event.staff or (None if m.is_owner else self.business.staff(event.caller))
            m.staff = member.name if hasattr(member, "name") else member  # type: ignore[union-attr]
            m.known_customer = event.known_customer
            m.details.phone = event.caller
            if event.channel == "sms" and event.caller:
                m.details.phone_confirmed = True  # they are texting from it
            if m.runs_the_day:
                self.external_brain = False  # the owner's assistant is the rules brain: deterministic, guarded
                return owner.start(self)
            return self.greeting() if self.external_brain else self._rules.start(self)
        if isinstance(event, CallerSaid):
            if not event.final or not event.text.strip():
                return []
            m.silences = 0
            if m.state == State.CONFIRM:
                # The explicit yes is judged here, in code, from the caller's own words.
                m.readback_yes = self.read(event.text).yes
            return [] if self.external_brain else self._rules.said(self, self.read(event.text))
        if isinstance(event, KeysPressed):
            m.silences = 0
            if m.state == State.OWNER_PIN:
                return owner.on_pin(self, self.read(event.digits))
            return [] if self.external_brain else self._rules.keys(self, event.digits)
        if isinstance(event, ToolResult):
            return self._result(event)
        if isinstance(event, Silence):
            return self._silence()
        if isinstance(event, AgentInterrupted):
            return []
        if isinstance(event, CallEnded):
            m.finished = True
            m.state = State.DONE
            return []
        return []

    def _never_twice(self, actions: list[Action]) -> list[Action]:
        """Remember what was said last; a line equal to the one just said gets "Sorry, " in front of it once."""
        m = self.memory
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Say) and action.text:
                if action.text == m.last_line:
                    action = Say(f"Sorry, let me say that again. {action.text}", action.interruptible)
                m.last_line = action.text
            out.append(action)
        return out

    def greeting(self) -> list[Action]:
        m = self.memory
        if m.channel == "sms":
            return []  # a text thread starts with the customer's own text; the reply answers it
        before: list[Action] = []
        if self.business.record_calls:  # a recorded call says so first, in full (a barge-in must not cut it)
            before.append(Say(self.business.recording_notice or self.line("recording_notice"), interruptible=False))
        if self.business.greeting and not m.forwarded_from:
            return self.ask(State.NEED, text=self.business.greeting, before=before)
        key = "greet_forwarded" if m.forwarded_from else ("greet_known" if m.known_customer else "greet")
        return self.ask(State.NEED, key, before=before)

    def _silence(self) -> list[Action]:
        m = self.memory
        if m.channel == "sms" or m.pending_tool:
            return []
        m.silences += 1
        if m.silences == 1:
            text = f"{self.line('still_there')} {m.last_prompt}".strip()
            return [Say(text), EndOfTurn(expects(m.state))]
        return [Say(self.line("silence_bye"), interruptible=False), *self.hang_up("silence")]

    # -- speaking ------------------------------------------------------------------------------------
    def line(self, key: str, **values: Any) -> str:
        values.setdefault("business", self.business.name)
        values.setdefault("agent", self.business.assistant_name)
        values.setdefault("owner", self.owner_name)
        values.setdefault("owner_s", f"{self.owner_name}'s")
        return self.replies.line(key, avoid=self.memory.last_line, **values)

    def say(self, key: str, *, interruptible: bool = True, **values: Any) -> Say:
        return Say(self.line(key, **values), interruptible=interruptible)

    def move(self, state: State) -> None:
        check_move(self.memory.state, state, flow=self.memory.flow)
        self.memory.state = state

    def ask(
        self,
        state: State,
        key: str | None = None,
        *,
        text: str | None = None,
        before: Sequence[Action] = (),
        interruptible: bool = True,
        **values: Any,
    ) -> list[Action]:
        """Move to `state` and ask its question (a line by key, or `text`), ending the agent's turn."""
        prompt = text if text is not None else self.line(key or "", **values)
        self.move(state)
        self.memory.last_prompt = prompt
        return [*before, Say(prompt, interruptible=interruptible), EndOfTurn(expects(state))]

    # -- guarded capabilities (both brains use these) ------------------------------------------------
    def run_tool(self, tool: str, purpose: str, /, **args: Any) -> RunTool:
        m = self.memory
        m.tool_seq += 1
        call_id = f"{m.call_id}:t{m.tool_seq}"
        m.pending_tool = PendingTool(call_id=call_id, name=tool, purpose=purpose)
        return RunTool(call_id=call_id, name=tool, arguments=args)

    def search(
        self, windows: Sequence[TimeWindow], *, purpose: str = "offer", reschedule_uid: str | None = None
    ) -> RunTool:
        m = self.memory
        m.windows = tuple(windows)
        m.chosen = None
        m.readback_for, m.readback_yes = None, False
        service = m.service or self.business.default_service().slug
        args: dict[str, Any] = {
            "service": service,
            "windows": [
                {"start": w.start.isoformat(), "end": w.end.isoformat(), "exact": w.exact, "asap": w.asap}
                for w in windows
            ],
            "not_before": self.clock.now().isoformat(),
        }
        if reschedule_uid:
            args["reschedule_uid"] = reschedule_uid
        if m.hold_id:
            args["release_hold"], m.hold_id = m.hold_id, None
        return self.run_tool("find_slots", purpose, **args)

    def choose(self, slot_id: str) -> RunTool:
        m = self.memory
        guards.offered_slot(m, slot_id)
        release = m.hold_id
        m.chosen, m.hold_id = slot_id, None
        m.readback_for, m.readback_yes = None, False
        args: dict[str, Any] = {"slot": shapes.slot_args(m.offered[slot_id]), "holder": m.call_id}
        if release:
            args["release_hold"] = release
        return self.run_tool("hold_slot", "hold", **args)

    def readback(self) -> list[Action]:
        """Read back what matters; the next caller turn decides `readback_yes`."""
        m = self.memory
        slot = m.offered[m.chosen or ""]
        m.readback_for, m.readback_yes = slot.id, False
        if m.flow == Flow.RESCHEDULE:
            old = next((b for b in m.bookings if b.uid == m.target_uid), None)
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
                address=m.details.address or "your address",
                name=m.details.name or "you",
                deposit=deposit,
            )
        return self.ask(State.CONFIRM, text=text, interruptible=False)

    def book(self) -> RunTool:
        m = self.memory
        guards.can_book(m, m.chosen or "")
        slot = m.offered[m.chosen or ""]
        d = m.details
        return self.run_tool(
            "book",
            "book",
            slot=shapes.slot_args(slot),
            name=d.name,
            phone=d.phone,
            address=d.address,
            notes=d.problem,
            email=d.email,
            hold_id=m.hold_id,
            call_id=m.call_id,
            source="sms" if self.is_sms else ("simulate" if m.channel == "simulate" else "call"),
        )

    def load_bookings(self, purpose: str) -> RunTool | None:
        """The caller's own bookings, looked up by the number they call from (None when withheld)."""
        if not self.memory.caller:
            return None
        return self.run_tool("my_bookings", purpose, phone=self.memory.caller)

    def cancel(self, uid: str) -> RunTool:
        guards.can_cancel(self.memory, uid)
        return self.run_tool("cancel", "cancel", uid=uid, phone=self.memory.caller)

    def reschedule(self, uid: str) -> RunTool:
        m = self.memory
        guards.can_reschedule(m, uid, m.chosen or "")
        slot = m.offered[m.chosen or ""]
        return self.run_tool(
            "reschedule", "reschedule", uid=uid, phone=m.caller, slot=shapes.slot_args(slot), hold_id=m.hold_id
        )

    def owner_schedule(self, day: date | None = None, *, until: date | None = None, purpose: str = "owner") -> RunTool:
        """The jobs on a day (or days up to `until`), all of them for the owner, their own for a team member."""
        guards.is_owner(self.memory)
        local = day or self.today()
        start = datetime.combine(local, datetime.min.time(), tzinfo=self.business.tz)
        # The next local midnight, built on the wall clock so a DST day keeps its true length.
        last = until or local + timedelta(days=1)
        end = datetime.combine(last, datetime.min.time(), tzinfo=self.business.tz)
        return self.run_tool(
            "owner_schedule", purpose, start=start.isoformat(), end=end.isoformat(), member=self.memory.staff
        )

    @property
    def pin_set(self) -> bool:
        return bool(self.owner_pin)

    def pin_matches(self, digits: str) -> bool:
        return bool(self.owner_pin) and hmac.compare_digest(digits.encode(), (self.owner_pin or "").encode())

    def take_message(self, text: str) -> list[Action]:
        m = self.memory
        m.message = text
        if m.outcome.action in ("none", "info"):
            m.outcome = Outcome(action="message", message=text)
        body = f"Message from {self.caller_line()}: {text}"
        return [SendSms(to=self.business.owner_mobile, body=body, kind="owner_message")]

    def caller_line(self) -> str:
        return wording.caller_line(self.memory)

    def summary(self) -> str:
        return wording.owner_summary(self.memory)

    def transfer(self, reason: str = "caller asked") -> list[Action]:
        m = self.memory
        if m.outcome.action in ("none", "info"):
            m.outcome = Outcome(action="transferred")
        if self.is_sms:
            body = f"{self.summary()} ({reason}) Please call them back."
            self.move(State.TRANSFERRED)
            return [
                SendSms(to=self.business.owner_mobile, body=body, kind="owner_callback"),
                *self.ask(State.ANYTHING_ELSE, before=[self.say("transfer_sms")], key="anything_else"),
            ]
        # On a call the transfer ends our part of the conversation.
        self.move(State.TRANSFERRED)
        m.finished = True
        return [
            self.say("transfer", interruptible=False),
            Transfer(number=self.business.owner_mobile, reason=reason, summary=self.summary()),
        ]

    def hang_up(self, reason: str = "done") -> list[Action]:
        self.move(State.DONE)
        self.memory.finished = True
        return [HangUp(reason=reason)]

    def goodbye(self, key: str | None = None) -> list[Action]:
        key = key or ("goodbye_sms" if self.is_sms else "goodbye")
        return [self.say(key, interruptible=False), *self.hang_up()]

    def fail_safe(self) -> list[Action]:
        """A bug escaped the conversation: the owner gets what we know, the caller an apology and the owner's
        line (or, on a text thread, the promise of a call back). Never a dead end."""
        m = self.memory
        note = f"The receptionist hit a problem mid-conversation. {self.summary()} Please call them back."
        actions: list[Action] = [SendSms(to=self.business.owner_mobile, body=note, kind="owner_message")]
        if m.outcome.action in ("none", "info"):
            m.outcome = Outcome(action="message", message=note)
        if self.is_sms or not self.business.owner_mobile:
            m.state = State.ANYTHING_ELSE  # whatever was half done is in the owner's hands now
            return [*actions, Say(self.line("something_wrong")), EndOfTurn()]
        m.finished, m.state = True, State.TRANSFERRED
        return [
            *actions,
            Say(self.line("something_wrong_transfer"), interruptible=False),
            Transfer(number=self.business.owner_mobile, reason="receptionist error", summary=self.summary()),
        ]

    # -- tool results --------------------------------------------------------------------------------
    def _result(self, event: ToolResult) -> list[Action]:
        m = self.memory
        pending = m.pending_tool
        if pending is None or pending.call_id != event.call_id:
            return []  # late or unknown: never acted on twice
        m.pending_tool = None
        if event.error is not None or (event.result or {}).get("error"):
            unconfirmed = event.failure == "not_confirmed"
            self.last_result = {
                "error": "the calendar did not take it" if unconfirmed else "the calendar could not be reached"
            }
            return self._tool_failed(event.name, unconfirmed=unconfirmed)
        result = event.result or {}
        outward = tool_results.absorb(self, event.name, result)
        self.last_result = tool_results.for_brain(self, event.name, result)
        if self.external_brain and pending.purpose != "owner":
            return outward
        # The owner's schedule opens their call, whichever brain runs it.
        return [*outward, *self._rules.after_tool(self, event.name, pending.purpose, result)]

    def _tool_failed(self, name: str, *, unconfirmed: bool = False) -> list[Action]:
        """The calendar never answered, or (unconfirmed) answered a booking with something else: the caller
        hears it plainly and the owner gets who to call back and why."""
        m = self.memory
        d = m.details
        summary = self.caller_line()
        if d.problem:
            summary += f" about: {d.problem}"
        if d.address:
            summary += f" at {d.address}"
        if unconfirmed:
            what, text = (
                "Booking not confirmed",
                f"The calendar didn't take a booking ({name}). Please call back {summary}.",
            )
        else:
            what, text = (
                "Calendar unavailable",
                f"The receptionist couldn't reach the calendar ({name}). Please call back {summary}.",
            )
        actions: list[Action] = [SendSms(to=self.business.owner_mobile, body=text, kind="owner_summary")]
        if m.outcome.action in ("none", "info"):
            m.outcome = Outcome(action="message", message=f"{what}; call back {summary}")
        if self.external_brain:
            return actions
        line = "booking_not_confirmed" if unconfirmed else "tool_failed"
        return [*actions, *self.ask(State.ANYTHING_ELSE, "anything_else", before=[self.say(line)])]

    # -- persistence ---------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {"memory": self.memory.to_dict(), "seed": self.replies.seed, "replies": self.replies.count}

    @classmethod
    def from_state(
        cls,
        data: dict[str, Any],
        business: Business,
        clock: Clock,
        *,
        external_brain: bool = False,
        owner_pin: str | None = None,
    ) -> ConversationMachine:
        memory = Memory.from_dict(data["memory"])
        machine = cls(
            business,
            clock,
            memory.caller,
            call_id=memory.call_id,
            channel=memory.channel,
            seed=data.get("seed"),
            external_brain=external_brain,
            memory=memory,
            replies_count=data.get("replies", 0),
            owner_pin=owner_pin,
        )
        machine.external_brain = machine.external_brain and not memory.runs_the_day
        # Spoken labels are relative ("tomorrow"): a thread picked up on another day says them afresh.
        for item in [*memory.offered.values(), *memory.bookings]:
            item.label = machine.label(item.start)
        return machine
