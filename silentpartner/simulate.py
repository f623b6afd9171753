"""`silentpartner simulate`: a terminal conversation with the receptionist over the real conversation, calendar
backend and store.

This module sits at the shell (it reads settings, opens the database and an HTTP client, and writes the call
record); the conversation it runs stays free of I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from silentpartner.brains import new_chat_brain
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
from silentpartner.store.activity import StoreActivity


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
    text: bool = False  # a text thread (SMS) instead of a phone call


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

    async def open(
        self, sid: str, business: Business, caller: str | None, forwarded: str | None, owner: bool, channel: str
    ) -> None:
        from silentpartner.store.models import CallRecord

        async with self.db.session() as session:
            record = CallRecord(
                sid=sid,
                business=business.slug,
                from_number=caller,
                to_number=business.main_number,
                forwarded_from=forwarded,
                is_owner=owner,
                channel=channel,
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
    from silentpartner.runtime import new_http_client
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

    brain = new_chat_brain(settings) if options.brain == "chat" else None  # no key: one line, before anything opens
    clock: Clock = FixedClock(parse_now(options.now, business)) if options.now else SystemClock()
    with tempfile.TemporaryDirectory(prefix="silentpartner-sim-") as tmp:
        url = options.db or f"sqlite+aiosqlite:///{Path(tmp) / 'simulate.db'}"
        db = Database(url)  # a URL that is not one is refused here, in one line
        http = new_http_client() if business.calendar == "calcom" else None  # TLS setup costs; only Cal.com needs it
        try:
            await migrate.upgrade(db)
            calendar = open_calendar(business, CalendarParts(settings=settings, db=db, http=http, clock=clock))
        except BaseException:
            if http is not None:
                await http.aclose()
            await db.close()
            raise
        driver = ConversationDriver(
            business,
            calendar,
            clock=clock,
            brain=brain,
            seed=options.seed,
            activity=StoreActivity(db, business.slug),
            owner_pin=business.owner_pin(os.environ),
        )
        sid = f"SIM{uuid.uuid4().hex[:16]}"
        log = CallLog(db, clock)
        is_owner = business.is_owner(caller)
        await log.open(sid, business, caller, forwarded, is_owner, "sms" if options.text else "simulate")
        out = _Printer(stdout, jsonl=options.jsonl)
        try:
            event: Event = CallStarted(
                business=business.slug,
                caller=caller,
                call_id=sid,
                channel="sms" if options.text else "simulate",
                forwarded_from=forwarded,
                is_owner=is_owner,
                staff=member.name if (member := business.staff(caller)) else None,
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
            if http is not None:
                await http.aclose()
            await db.close()
    return 0


class _Printer:
    """Prints the agent's turns: "agent> ..." lines for a person, or one JSON object per turn for a script.

    A JSON turn is {"say": all the lines joined, "lines": [{"text", "interruptible"}], "expect": what answer the
    turn invites, "done": false}, plus "texts" ([{"to", "kind", "body"}]), "transfer" ({"number", "summary"})
    and "hung_up": true when those happened in the turn. The last line is {"done": true, "outcome": {...}}.
    """

    def __init__(self, stdout: TextIO, *, jsonl: bool) -> None:
        self.stdout = stdout
        self.jsonl = jsonl
        self._turn: dict[str, Any] = {}

    def action(self, action: Any) -> None:
        turn = self._turn
        if isinstance(action, Say):
            turn.setdefault("lines", []).append({"text": action.text, "interruptible": action.interruptible})
            if not self.jsonl:
                self.stdout.write(f"agent> {action.text}\n")
        elif isinstance(action, EndOfTurn):
            turn["expect"] = action.expect
            self.end_turn()
        elif isinstance(action, SendSms):
            turn.setdefault("texts", []).append({"to": action.to, "kind": action.kind, "body": action.body})
            if not self.jsonl:
                self.stdout.write(f"  [text to {action.to} ({action.kind}): {action.body}]\n")
        elif isinstance(action, Transfer):
            turn["transfer"] = {"number": action.number, "summary": action.summary}
            if not self.jsonl:
                self.stdout.write(f"  [transferring the call to {action.number}: {action.summary}]\n")
        elif isinstance(action, HangUp):
            turn["hung_up"] = True
            if not self.jsonl:
                self.stdout.write("  [the agent hung up]\n")
        self.stdout.flush()

    def end_turn(self) -> None:
        turn, self._turn = self._turn, {}
        if self.jsonl and turn:
            lines = turn.get("lines", [])
            out = {"say": " ".join(line["text"] for line in lines), **turn, "done": False}
            self.stdout.write(json.dumps(out) + "\n")
            self.stdout.flush()

    def done(self, outcome: dict[str, Any]) -> None:
        self.end_turn()
        if self.jsonl:
            self.stdout.write(json.dumps({"done": True, "outcome": outcome}) + "\n")
        else:
            self.stdout.write(f"\n[call ended: {json.dumps(outcome)}]\n")
        self.stdout.flush()


def register(subparsers: argparse._SubParsersAction) -> None:
    simulate = subparsers.add_parser(
        "simulate",
        help="talk to the receptionist in the terminal, over the real conversation, calendar and store",
        description="A conversation with the receptionist. Type what the caller says; '#dtmf 123#' presses "
        "keys, an empty line is silence. Uses a fresh temporary database unless --db is given.",
    )
    simulate.add_argument("--business", metavar="SLUG", help="which business answers (default: the only one)")
    simulate.add_argument(
        "--from", dest="caller", metavar="+E164", default="+15035550123", help="the caller's number (caller ID)"
    )
    simulate.add_argument("--forwarded-from", metavar="+E164", help="the call was forwarded from this number")
    simulate.add_argument("--now", metavar="ISO", help="pin the clock (no offset = the business timezone)")
    simulate.add_argument("--brain", choices=("rules", "chat"), default="rules", help="rules (offline) or chat")
    simulate.add_argument("--db", metavar="URL", help="database URL (default: a fresh temporary SQLite file)")
    simulate.add_argument(
        "--jsonl",
        action="store_true",
        help="machine mode: one JSON line per agent turn (say, lines, expect, texts, transfer, hung_up)",
    )
    simulate.add_argument("--text", action="store_true", help="a text (SMS) thread instead of a phone call")
    simulate.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    simulate.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    options = SimulateOptions(
        business=args.business,
        caller=args.caller,
        forwarded_from=args.forwarded_from,
        now=args.now,
        brain=args.brain,
        db=args.db,
        jsonl=args.jsonl,
        seed=args.seed,
        text=args.text,
    )
    return asyncio.run(run_simulation(options))
