"""The one async driver: machine + brain + calendar port + clock, for a phone call, an SMS thread and
`simulate` alike.

Feed it events with `handle(event)`; it yields only outward actions (Say, Transfer, SendSms, HangUp,
EndOfTurn). `RunTool` actions are run here against the calendar with a timeout; a tool slower than
`filler_after` seconds gets a short filler line (not on SMS); a failed or timed-out tool is said plainly
and handed to the owner (the machine texts them), never a silent stall. A bug that escapes the machine is said
as an apology and handed to the owner too: the caller never meets a dead line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from silentpartner.business import Business
from silentpartner.calendar.port import BookingNotConfirmed, CalendarError, CalendarPort
from silentpartner.clock import Clock
from silentpartner.conversation.events import (
    Action,
    AgentInterrupted,
    CallerSaid,
    EndOfTurn,
    Event,
    HangUp,
    KeysPressed,
    Outcome,
    RunTool,
    Say,
    ToolResult,
    Transfer,
)
from silentpartner.conversation.machine import ConversationMachine
from silentpartner.conversation.owner_tools import ActivityLog
from silentpartner.conversation.rules.router import RulesBrain
from silentpartner.conversation.tools import ToolRunner

log = logging.getLogger(__name__)


class Brain(Protocol):
    """A brain that thinks outside the machine (a chat model). The rules brain lives inside the machine."""

    name: str

    async def respond(self, driver: ConversationDriver, text: str) -> list[Action]: ...

    def to_state(self) -> dict[str, Any]: ...

    def load_state(self, state: dict[str, Any]) -> None: ...


class ConversationDriver:
    def __init__(
        self,
        business: Business,
        calendar: CalendarPort,
        *,
        clock: Clock,
        brain: Brain | RulesBrain | None = None,
        tool_timeout: float = 8.0,
        filler_after: float = 1.0,
        seed: int | None = None,
        machine: ConversationMachine | None = None,
        activity: ActivityLog | None = None,
        owner_pin: str | None = None,
    ) -> None:
        self.business = business
        self.calendar = calendar
        self.clock = clock
        self.brain: Brain | None = None if brain is None or isinstance(brain, RulesBrain) else brain
        self.machine = machine or ConversationMachine(
            business, clock, seed=seed, external_brain=self.brain is not None, owner_pin=owner_pin
        )
        self.runner = ToolRunner(calendar, business, activity)
        self.tool_timeout = tool_timeout
        self.tool_seconds = 0.0  # time spent waiting on tools so far (a call's turn latency breakdown)
        self.filler_after = filler_after
        self.transcript: list[dict[str, Any]] = []

    # -- what the channel reads -----------------------------------------------------------------------
    @property
    def outcome(self) -> Outcome:
        return self.machine.memory.outcome

    @property
    def finished(self) -> bool:
        return self.machine.memory.finished

    def caller_details(self) -> dict[str, Any]:
        """What the caller told us so far (name, number, address, problem), for the call record."""
        d = self.machine.memory.details
        values = {"name": d.name, "phone": d.phone, "address": d.address, "problem": d.problem, "email": d.email}
        return {key: value for key, value in values.items() if value}

    @property
    def call_id(self) -> str:
        return self.machine.memory.call_id

    # -- events in, actions out -----------------------------------------------------------------------
    async def handle(self, event: Event) -> AsyncIterator[Action]:
        if isinstance(event, CallerSaid) and event.final and event.text.strip():
            self._note("caller", event.text.strip())
        elif isinstance(event, KeysPressed):
            self._note("caller", f"[keys {event.digits}]")
        elif isinstance(event, AgentInterrupted) and self.transcript and self.transcript[-1]["role"] == "agent":
            self.transcript[-1]["text"] = event.heard  # what the caller actually heard
            self.transcript[-1]["interrupted"] = True
        actions = self._machine_handle(event)
        if self.machine.memory.runs_the_day:
            self.brain = None  # the owner's assistant is the rules brain (see rules/owner.py)
        if self.brain is not None and not self.finished:
            text = None
            if isinstance(event, CallerSaid) and event.final and event.text.strip():
                text = event.text.strip()
            elif isinstance(event, KeysPressed):
                text = f"(the caller typed on the keypad: {event.digits})"
            if text is not None:
                actions = [*actions, *await self.brain.respond(self, text)]
        async for action in self.run(actions):
            yield action

    async def run(self, actions: list[Action]) -> AsyncIterator[Action]:
        """Carry out actions in order: tools here (their results may add actions), the rest yielded."""
        queue = list(actions)
        said_since_turn = False
        while queue:
            action = queue.pop(0)
            if isinstance(action, RunTool):
                result: ToolResult | None = None
                async for item in self.execute(action):
                    if isinstance(item, ToolResult):
                        result = item
                    else:
                        said_since_turn = True
                        yield item
                if result is not None:
                    queue[0:0] = self._machine_handle(result)
                continue
            if isinstance(action, Say):
                self._note("agent", action.text)
                said_since_turn = True
            elif isinstance(action, EndOfTurn):
                said_since_turn = False
            yield action
            if isinstance(action, HangUp | Transfer):
                said_since_turn = False
        if said_since_turn and not self.finished:
            yield EndOfTurn()  # never leave the caller waiting on a turn that has ended

    async def execute(self, action: RunTool) -> AsyncIterator[Say | ToolResult]:
        """Run one tool with a timeout; yield a filler line if it is slow, then its ToolResult."""
        task = asyncio.ensure_future(self.runner.run(action.name, action.arguments))
        deadline = self.tool_timeout
        started = time.perf_counter()
        try:
            try:
                if self.machine.memory.channel != "sms" and self.filler_after < self.tool_timeout:
                    done, _ = await asyncio.wait({task}, timeout=self.filler_after)
                    if not done:
                        filler = Say(self.machine.line("filler"))
                        self._note("agent", filler.text)
                        yield filler
                        deadline = self.tool_timeout - self.filler_after
                result = await asyncio.wait_for(task, timeout=deadline)
            except TimeoutError:
                task.cancel()
                log.warning("tool.timeout", extra={"tool": action.name, "call_id": self.call_id})
                yield ToolResult(action.call_id, action.name, error=f"{action.name} timed out")
                return
            except CalendarError as exc:
                log.warning("tool.failed", extra={"tool": action.name, "call_id": self.call_id, "error": str(exc)})
                failure = "not_confirmed" if isinstance(exc, BookingNotConfirmed) else "unreachable"
                yield ToolResult(action.call_id, action.name, error=str(exc) or type(exc).__name__, failure=failure)
                return
            except Exception as exc:  # a bug or an outage must still be said, never a silent stall
                log.exception("tool.crashed", extra={"tool": action.name, "call_id": self.call_id})
                yield ToolResult(action.call_id, action.name, error=type(exc).__name__)
                return
        finally:
            self.tool_seconds += time.perf_counter() - started
        yield ToolResult(action.call_id, action.name, result=result)

    def _machine_handle(self, event: Event) -> list[Action]:
        """The machine's answer to an event; a bug inside it becomes an apology and a message for the owner."""
        try:
            return self.machine.handle(event)
        except Exception:
            log.exception("conversation.failed", extra={"call_id": self.call_id, "event": type(event).__name__})
            return self.machine.fail_safe()

    def _note(self, role: str, text: str) -> None:
        self.transcript.append({"role": role, "text": text, "at": self.clock.now().isoformat()})

    # -- persistence (SMS threads) --------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "machine": self.machine.to_state(),
            "transcript": list(self.transcript),
            "brain": self.brain.to_state() if self.brain is not None else None,
        }

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        business: Business,
        calendar: CalendarPort,
        *,
        clock: Clock,
        brain: Brain | RulesBrain | None = None,
        tool_timeout: float = 8.0,
        filler_after: float = 1.0,
        activity: ActivityLog | None = None,
    ) -> ConversationDriver:
        external = brain is not None and not isinstance(brain, RulesBrain)
        machine = ConversationMachine.from_state(state["machine"], business, clock, external_brain=external)
        driver = cls(
            business,
            calendar,
            clock=clock,
            brain=None if machine.memory.runs_the_day else brain,
            tool_timeout=tool_timeout,
            filler_after=filler_after,
            machine=machine,
            activity=activity,
        )
        driver.transcript = list(state.get("transcript", []))
        if driver.brain is not None and state.get("brain"):
            driver.brain.load_state(state["brain"])
        return driver


__all__ = ["Brain", "ConversationDriver", "HangUp"]
