"""Runs a scenario (YAML: caller lines, pinned now, expected outcome) through the real driver, the rules
brain and LocalCalendar on a fresh SQLite database, in-process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from silentpartner.business import Business, demo_businesses
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest
from silentpartner.clock import FixedClock
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import (
    Action,
    CallEnded,
    CallStarted,
    Event,
    HangUp,
    Say,
    SendSms,
    Transfer,
)
from silentpartner.conversation.simulate import caller_event, parse_now
from silentpartner.store.db import Database
from silentpartner.store.models import Base

SCENARIOS = Path(__file__).with_name("scenarios")


def load_scenarios() -> list[dict[str, Any]]:
    out = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        data.setdefault("name", path.stem)
        out.append(data)
    return out


@dataclass
class Run:
    driver: ConversationDriver
    actions: list[Action] = field(default_factory=list)
    turns: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # caller lines never heard (the call ended first)

    @property
    def said(self) -> str:
        return "\n".join(a.text for a in self.actions if isinstance(a, Say))

    @property
    def texts(self) -> list[SendSms]:
        return [a for a in self.actions if isinstance(a, SendSms)]

    @property
    def transfers(self) -> list[Transfer]:
        return [a for a in self.actions if isinstance(a, Transfer)]


async def open_calendar(business: Business, url: str, clock: FixedClock) -> tuple[LocalCalendar, Database]:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return LocalCalendar(business, db, clock), db


async def seed_bookings(calendar: LocalCalendar, business: Business, bookings: list[dict[str, Any]]) -> None:
    for item in bookings:
        await calendar.book(
            BookingRequest(
                service=item.get("service", "service-call"),
                start=parse_now(item["start"], business),
                name=item.get("name", "Pat Doe"),
                phone=item["phone"],
                address=item.get("address"),
                notes=item.get("notes"),
                team_member=item.get("team_member"),
                source="cli",
            )
        )


async def run_scenario(scenario: dict[str, Any], db_url: str) -> Run:
    business = demo_businesses().get(scenario.get("business"))
    # Seed existing bookings a day earlier so minimum notice never blocks them, then pin "now".
    clock = FixedClock(parse_now(scenario.get("seed_at", "2026-11-01T09:00"), business))
    calendar, db = await open_calendar(business, db_url, clock)
    try:
        await seed_bookings(calendar, business, scenario.get("bookings", []))
        clock.set(parse_now(scenario["now"], business))
        caller = scenario.get("from", "+15035550123")
        driver = ConversationDriver(
            business, calendar, clock=clock, seed=scenario.get("seed", 0), tool_timeout=5.0, filler_after=5.0
        )
        run = Run(driver)
        channel = scenario.get("channel", "simulate")
        event: Event = CallStarted(
            business=business.slug,
            caller=caller,
            call_id=f"test-{scenario['name']}",
            channel=channel,
            forwarded_from=scenario.get("forwarded_from"),
            is_owner=business.is_owner(caller),
        )
        lines = list(scenario.get("caller", []))
        while True:
            async for action in driver.handle(event):
                run.actions.append(action)
            if driver.finished or not lines:
                break
            line = lines.pop(0)
            run.turns.append(line)
            event = caller_event(line)
        if not driver.finished:
            async for action in driver.handle(CallEnded()):
                run.actions.append(action)
        run.remaining = lines
        return run
    finally:
        await calendar.close()
        await db.close()


def check(run: Run, scenario: dict[str, Any]) -> None:
    expect = scenario.get("expect", {})
    outcome = run.driver.outcome.as_dict()
    transcript = "\n".join(f"{t['role']}: {t['text']}" for t in run.driver.transcript)
    context = f"\n--- transcript ---\n{transcript}\n--- outcome ---\n{outcome}"
    assert outcome["action"] == expect.get("action", "none"), context
    for key, value in (expect.get("booking") or {}).items():
        got = (outcome.get("booking") or {}).get(key)
        if key in ("start", "end") and got:
            assert datetime.fromisoformat(got) == datetime.fromisoformat(value), f"{key}: {got} != {value}{context}"
            assert got.endswith(value[-6:]), f"{key} should carry the business offset: {got}{context}"
        else:
            assert got == value, f"booking {key}: {got!r} != {value!r}{context}"
    if "message_contains" in expect:
        assert expect["message_contains"].lower() in (outcome.get("message") or "").lower(), context
    said = run.said.lower()
    for phrase in expect.get("says", []):
        assert phrase.lower() in said, f"agent never said {phrase!r}{context}"
    for phrase in expect.get("never_says", []):
        assert phrase.lower() not in said, f"agent said {phrase!r}{context}"
    if "transfer_to" in expect:
        assert [t.number for t in run.transfers] == [expect["transfer_to"]], context
    else:
        assert not run.transfers, context
    for to in expect.get("texts_to", []):
        assert any(t.to == to for t in run.texts), f"no text to {to}: {run.texts}{context}"
    if "hung_up" in expect:
        assert any(isinstance(a, HangUp) for a in run.actions) == expect["hung_up"], context
    if expect.get("all_lines_used", True):
        assert not run.remaining, f"the call ended before these lines: {run.remaining}{context}"
    for phrase in expect.get("uninterruptible", []):
        match = [a for a in run.actions if isinstance(a, Say) and phrase.lower() in a.text.lower()]
        assert match and all(not a.interruptible for a in match), f"{phrase!r} should be uninterruptible{context}"
