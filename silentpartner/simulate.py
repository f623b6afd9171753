"""`silentpartner simulate`: a terminal conversation with the receptionist over the real engine,
calendar backend and store.

This module sits at the CLI layer (it opens the database and writes the call record); the engine and
driver it runs stay free of I/O.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from silentpartner.business import Business
from silentpartner.clock import Clock, FixedClock, SystemClock
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import (
    CallEnded,
    CallerSaid,
    CallStarted,
    EndOfTurn,
    Event,
    HangUp,
    KeysPressed,
    Say,
    SendSms,
    Silence,
    Transfer,
)
from silentpartner.phones import to_e164


@dataclass
class SimulateOptions:
    business: str | None = None
    caller: str | None = "+15035550123"
    forwarded_from: str | None = None
    now: str | None = None
    brain: str = "rules"
    db: str | None = None
    jsonl: bool = False
    seed: int | None = 0


def parse_now(text: str, business: Business) -> datetime:
    """An ISO time; without an offset it is read in the business timezone."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=business.tz)
    return value


def caller_event(line: str) -> Event:
    """One line of caller input: words, `#dtmf 123#` key presses, or an empty line for silence."""
    stripped = line.strip()
    if stripped.lower().startswith("#dtmf"):
        return KeysPressed(digits=stripped[5:].strip().replace(" ", ""))
    if not stripped or stripped.lower() == "#silence":
        return Silence(seconds=8.0)
    return CallerSaid(text=stripped)


class CallLog:
    """Writes the simulated call into the store as it goes (a CallRecord with the transcript)."""

    def __init__(self, db: Any, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.record_id: int | None = None

    async def open(self, sid: str, business: Business, caller: str | None, forwarded: str | None, owner: bool) -> None:
        from silentpartner.store.models import CallRecord

        async with self.db.session() as session:
            record = CallRecord(
                sid=sid,
                business=business.slug,
                from_number=caller,
                to_number=business.main_number,
                forwarded_from=forwarded,
                is_owner=owner,
                channel="simulate",
                status="in-progress",
                transcript=[],
                started_at=self.clock.now(),
            )
            session.add(record)
            await session.flush()
            self.record_id = record.id

    async def update(self, driver: ConversationDriver, *, final: bool = False) -> None:
        from silentpartner.store.models import CallRecord

        async with self.db.session() as session:
            record = await session.get(CallRecord, self.record_id)
            if record is None:
                return
            record.transcript = list(driver.transcript)
            outcome = driver.outcome
            record.outcome = outcome.action
            record.booking_uid = (outcome.booking or {}).get("uid")
            record.message_for_owner = outcome.message
            if final:
                record.status = "completed"
                record.ended_at = self.clock.now()
                started = record.started_at
                record.duration_seconds = int((record.ended_at - started).total_seconds()) if started else None


async def run_simulation(options: SimulateOptions, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    from silentpartner.business import load_businesses
    from silentpartner.calendar.registry import CalendarParts, open_calendar
    from silentpartner.settings import ConfigError, load_settings
    from silentpartner.store import migrate
    from silentpartner.store.db import Database

    settings = load_settings()
    business = load_businesses(settings).get(options.business)
    try:
        caller = to_e164(options.caller) if options.caller else None
        forwarded = to_e164(options.forwarded_from) if options.forwarded_from else None
        if options.now:
            parse_now(options.now, business)
    except ValueError as exc:  # InvalidPhoneNumber is a ValueError too
        raise ConfigError(f"simulate: {exc} (numbers like +15035550123, times like 2026-11-24T10:00)") from None

    clock: Clock = FixedClock(parse_now(options.now, business)) if options.now else SystemClock()
    with tempfile.TemporaryDirectory(prefix="silentpartner-sim-") as tmp:
        url = options.db or f"sqlite+aiosqlite:///{Path(tmp) / 'simulate.db'}"
        db = Database(url)
        await migrate.upgrade(db)
        calendar = open_calendar(business, CalendarParts(settings=settings, db=db, http=None, clock=clock))
        brain = None
        if options.brain == "chat":
            from silentpartner.conversation.chat_brain import ChatBrain

            brain = ChatBrain.from_settings(settings)
        driver = ConversationDriver(business, calendar, clock=clock, brain=brain, seed=options.seed)
        sid = f"SIM{uuid.uuid4().hex[:16]}"
        log = CallLog(db, clock)
        is_owner = business.is_owner(caller)
        await log.open(sid, business, caller, forwarded, is_owner)
        out = _Printer(stdout, jsonl=options.jsonl)
        try:
            event: Event = CallStarted(
                business=business.slug,
                caller=caller,
                call_id=sid,
                channel="simulate",
                forwarded_from=forwarded,
                is_owner=is_owner,
            )
            while True:
                async for action in driver.handle(event):
                    out.action(action)
                out.end_turn()
                await log.update(driver)
                if driver.finished:
                    break
                if not options.jsonl:
                    stdout.write("you> ")
                    stdout.flush()
                line = await asyncio.to_thread(stdin.readline)
                if not line:  # end of input: the caller hung up
                    async for action in driver.handle(CallEnded(reason="eof")):
                        out.action(action)
                    break
                if not options.jsonl and not stdin.isatty():
                    stdout.write(line if line.endswith("\n") else line + "\n")  # show piped caller lines
                event = caller_event(line)
                if not options.jsonl and isinstance(event, Silence):
                    stdout.write("(silence)\n")
            await log.update(driver, final=True)
            out.done(driver.outcome.as_dict())
        finally:
            await calendar.close()
            await db.close()
    return 0


class _Printer:
    def __init__(self, stdout: TextIO, *, jsonl: bool) -> None:
        self.stdout = stdout
        self.jsonl = jsonl
        self.said: list[str] = []

    def action(self, action: Any) -> None:
        if isinstance(action, Say):
            self.said.append(action.text)
            if not self.jsonl:
                self.stdout.write(f"agent> {action.text}\n")
        elif isinstance(action, EndOfTurn):
            self.end_turn()
        elif not self.jsonl and isinstance(action, SendSms):
            self.stdout.write(f"  [text to {action.to} ({action.kind}): {action.body}]\n")
        elif not self.jsonl and isinstance(action, Transfer):
            self.stdout.write(f"  [transferring the call to {action.number}]\n")
        elif not self.jsonl and isinstance(action, HangUp):
            self.stdout.write("  [the agent hung up]\n")
        self.stdout.flush()

    def end_turn(self) -> None:
        if self.jsonl and self.said:
            self.stdout.write(json.dumps({"say": " ".join(self.said), "done": False}) + "\n")
            self.stdout.flush()
        self.said = []

    def done(self, outcome: dict[str, Any]) -> None:
        self.end_turn()
        if self.jsonl:
            self.stdout.write(json.dumps({"done": True, "outcome": outcome}) + "\n")
        else:
            self.stdout.write(f"\n[call ended: {json.dumps(outcome)}]\n")
        self.stdout.flush()
