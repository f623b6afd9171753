"""The driver: slow tools get a filler line, hung or failing tools are said plainly and handed to the
owner, SMS threads survive `to_state`/`from_state`, deposits are announced and texted."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from silentpartner.business import Business, demo_businesses
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest, CalendarUnavailable
from silentpartner.clock import FixedClock
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import (
    Action,
    CallerSaid,
    CallStarted,
    EndOfTurn,
    HangUp,
    RunTool,
    Say,
    SendSms,
    ToolResult,
)
from silentpartner.conversation.machine import ConversationMachine
from silentpartner.conversation.replies import LINES
from silentpartner.store.db import Database

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tue 10:00 in Portland
CALLER = "+15035550123"
# Up to the read-back: "tomorrow at 2" is free, so it is held and read back at once.
BOOKING_LINES = ["My sink is leaking", "John Smith", "yes", "12 Oak Street", "tomorrow at 2"]


class GatedCalendar(LocalCalendar):
    """The real local calendar behind a slow network: `find_slots` waits for the test to open a gate."""

    def __init__(self, *args: Any, gate: asyncio.Event | None = None, fail: Exception | None = None) -> None:
        super().__init__(*args)
        self.gate = gate
        self.fail = fail

    async def find_slots(self, *args: Any, **kwargs: Any):
        if self.fail is not None:
            raise self.fail
        if self.gate is not None:
            await self.gate.wait()
        return await super().find_slots(*args, **kwargs)


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


@pytest.fixture
def business() -> Business:
    return demo_businesses().get("mikes-plumbing")


async def _feed(driver: ConversationDriver, event: Any, out: list[Action]) -> list[Action]:
    turn: list[Action] = []
    async for action in driver.handle(event):
        turn.append(action)
    out.extend(turn)
    return turn


async def _call(driver: ConversationDriver, lines: list[str], channel: str = "phone") -> list[Action]:
    out: list[Action] = []
    await _feed(driver, CallStarted(business="mikes-plumbing", caller=CALLER, call_id="c1", channel=channel), out)
    for line in lines:
        await _feed(driver, CallerSaid(line), out)
    return out


async def test_a_slow_tool_gets_a_filler_line_while_it_runs(business: Business, db: Database) -> None:
    gate = asyncio.Event()
    calendar = GatedCalendar(business, db, FixedClock(NOW), gate=gate)
    driver = ConversationDriver(business, calendar, clock=FixedClock(NOW), tool_timeout=30, filler_after=0.05)
    await _call(driver, BOOKING_LINES[:4])
    seen: list[Action] = []
    async for action in driver.handle(CallerSaid("tomorrow at 2")):
        seen.append(action)
        if isinstance(action, Say) and "check the calendar" in action.text:
            gate.set()  # the filler came out while the tool was still waiting: now let it finish
    assert "check the calendar" in seen[0].text  # type: ignore[union-attr]
    assert any(isinstance(a, Say) and "tomorrow at 2 PM" in a.text for a in seen[1:])  # the read-back
    assert isinstance(seen[-1], EndOfTurn)


async def test_a_hung_tool_times_out_is_said_plainly_and_the_owner_is_texted(business: Business, db: Database) -> None:
    calendar = GatedCalendar(business, db, FixedClock(NOW), gate=asyncio.Event())  # never opens
    driver = ConversationDriver(business, calendar, clock=FixedClock(NOW), tool_timeout=0.2, filler_after=0.05)
    actions = await _call(driver, BOOKING_LINES[:5])
    said = " ".join(a.text for a in actions if isinstance(a, Say))
    assert "can't reach the calendar" in said
    owner_texts = [a for a in actions if isinstance(a, SendSms) and a.to == business.owner_mobile]
    assert owner_texts and "John Smith" in owner_texts[0].body and "12 Oak Street" in owner_texts[0].body
    assert driver.outcome.action == "message"
    assert isinstance(actions[-1], EndOfTurn) and not driver.finished


async def test_a_calendar_outage_is_handed_over(business: Business, db: Database) -> None:
    calendar = GatedCalendar(business, db, FixedClock(NOW), fail=CalendarUnavailable("503 from upstream"))
    driver = ConversationDriver(business, calendar, clock=FixedClock(NOW))
    actions = await _call(driver, BOOKING_LINES[:5])
    assert any(isinstance(a, SendSms) and a.to == business.owner_mobile for a in actions)
    assert not any(isinstance(a, Say) and "503" in a.text for a in actions)


async def test_booking_and_goodbye_are_uninterruptible_and_texts_go_out(business: Business, db: Database) -> None:
    driver = ConversationDriver(business, LocalCalendar(business, db, FixedClock(NOW)), clock=FixedClock(NOW))
    actions = await _call(driver, [*BOOKING_LINES, "yes", "no thanks"])
    says = [a for a in actions if isinstance(a, Say)]
    for part in ("So that's", "booked for a service call tomorrow at 2 PM"):
        matching = [a for a in says if part in a.text or part.replace("booked for", "all set:") in a.text]
        assert matching and not matching[0].interruptible, part
    assert not says[-1].interruptible  # the goodbye
    confirmation = [a for a in actions if isinstance(a, SendSms) and a.kind == "confirmation"]
    assert confirmation[0].to == CALLER and "Wed Nov 25 at 2:00 PM" in confirmation[0].body
    # The same words a Cal.com booking's confirmation uses, so "Reply C or R" works for both.
    assert "Reply C to cancel or R to reschedule." in confirmation[0].body
    owner = next(a for a in actions if isinstance(a, SendSms) and a.kind == "owner_summary")
    assert owner.body.startswith("New booking by phone: John Smith")
    assert isinstance(actions[-1], HangUp) and driver.finished
    assert [t["role"] for t in driver.transcript[:2]] == ["agent", "caller"]
    assert driver.transcript[0]["at"] == NOW.isoformat()


async def test_an_sms_thread_survives_between_texts(business: Business, db: Database) -> None:
    clock = FixedClock(NOW)
    calendar = LocalCalendar(business, db, clock)
    driver = ConversationDriver(business, calendar, clock=clock)
    await _call(driver, ["Can someone fix a leaking toilet tomorrow at 9?"], channel="sms")
    texts = ["Olga Petrov", "12 Ocean Ave", "yes"]
    for text in texts:  # each text arrives in a new process: state goes through JSON
        state = json.loads(json.dumps(driver.to_state()))
        driver = ConversationDriver.from_state(state, business, calendar, clock=clock)
        replies = [a async for a in driver.handle(CallerSaid(text))]
        assert not any(isinstance(a, Say) and "check the calendar" in a.text for a in replies)
    assert driver.outcome.action == "booked"
    assert driver.outcome.booking["phone"] == CALLER  # type: ignore[index]
    # Later in the same thread: "can you come Thursday instead?"
    for text in ["can you come Thursday instead?", "the first one", "yes"]:
        state = json.loads(json.dumps(driver.to_state()))
        driver = ConversationDriver.from_state(state, business, calendar, clock=clock)
        _ = [a async for a in driver.handle(CallerSaid(text))]
    assert driver.outcome.action == "rescheduled"
    assert driver.outcome.booking["start"].startswith("2026-11-26T08:00")  # type: ignore[index]
    assert len(driver.transcript) > 10


async def test_a_deposit_is_said_before_booking_and_texted_after(db: Database) -> None:
    demo = demo_businesses().get("mikes-plumbing")
    services = tuple(s.model_copy(update={"deposit": 50.0}) if s.slug == "service-call" else s for s in demo.services)
    business = demo.model_copy(update={"services": services})
    clock = FixedClock(NOW)
    driver = ConversationDriver(business, LocalCalendar(business, db, clock), clock=clock)
    actions = await _call(driver, [*BOOKING_LINES, "yes"])
    readback = next(a for a in actions if isinstance(a, Say) and a.text.startswith("So that's"))
    assert "$50 deposit" in readback.text
    assert any(isinstance(a, SendSms) and a.kind == "payment_link" and a.to == CALLER for a in actions)


async def test_the_machine_alone_is_a_list_of_events(business: Business) -> None:
    """Sans-I/O: no calendar at all, tool results are just events."""
    engine = ConversationMachine(business, FixedClock(NOW), seed=1)
    engine.handle(CallStarted(business="mikes-plumbing", caller=CALLER, call_id="e1"))
    actions: list[Action] = []
    for line in BOOKING_LINES:
        actions = engine.handle(CallerSaid(line))
    tool = actions[-1]
    assert isinstance(tool, RunTool) and tool.name == "find_slots"
    slot = {
        "calendar_id": "x",
        "service": "service-call",
        "start": "2026-11-25T22:00:00+00:00",
        "end": "2026-11-25T23:00:00+00:00",
        "team_member": None,
    }
    hold = engine.handle(ToolResult(tool.call_id, tool.name, result={"slots": [slot], "nearest": False}))
    assert isinstance(hold[0], RunTool) and hold[0].name == "hold_slot"  # the asked-for time is free: hold it
    spoken = engine.handle(ToolResult(hold[0].call_id, "hold_slot", result={"hold_id": "h1"}))
    assert "tomorrow at 2 PM" in spoken[0].text  # type: ignore[union-attr]
    # A late duplicate of the same result is ignored, never acted on twice.
    assert engine.handle(ToolResult(tool.call_id, tool.name, result={"slots": [slot]})) == []
    # A slot id the machine never offered cannot be booked, whatever anyone asks.
    from silentpartner.conversation.guards import Refused

    with pytest.raises(Refused):
        engine.memory.readback_for, engine.memory.readback_yes = "made-up", True
        engine.memory.chosen = "made-up"
        engine.book()


async def test_a_slot_taken_before_the_yes_is_said_and_the_next_times_offered(business: Business, db: Database) -> None:
    clock = FixedClock(NOW)
    calendar = LocalCalendar(business, db, clock)
    driver = ConversationDriver(business, calendar, clock=clock)
    await _call(driver, [*BOOKING_LINES])  # read back, hold taken
    clock.advance(minutes=business.hold_minutes + 1)  # the caller dithered; the hold lapsed
    for member in ("Mike", "Dana"):  # and someone else booked 2 PM with both plumbers
        await calendar.book(
            BookingRequest(
                service="service-call",
                start=datetime(2026, 11, 25, 22, 0, tzinfo=UTC),
                name="Someone Else",
                phone="+15035550777",
                team_member=member,
            )
        )
    replies = [a async for a in driver.handle(CallerSaid("yes"))]
    said = " ".join(a.text for a in replies if isinstance(a, Say))
    assert "that time was just taken" in said and "Someone Else" not in said
    assert driver.outcome.action == "none"
    replies = [a async for a in driver.handle(CallerSaid("the first one"))]
    replies = [a async for a in driver.handle(CallerSaid("yes"))]
    assert driver.outcome.action == "booked"
    assert driver.outcome.booking["start"] != "2026-11-25T14:00:00-08:00"  # type: ignore[index]


async def test_known_customers_are_welcomed_back(business: Business) -> None:
    engine = ConversationMachine(business, FixedClock(NOW))
    actions = engine.handle(CallStarted(business="mikes-plumbing", caller=CALLER, call_id="k1", known_customer=True))
    assert "Good to hear from you again" in actions[0].text  # type: ignore[union-attr]


async def test_no_emergency_transfer_when_the_business_does_not_allow_it(db: Database) -> None:
    business = demo_businesses().get("mikes-plumbing").model_copy(update={"allow_emergency_transfer": False})
    clock = FixedClock(NOW)
    driver = ConversationDriver(business, LocalCalendar(business, db, clock), clock=clock)
    actions = await _call(driver, ["Sewage is backing up into my basement", "no"])
    said = " ".join(a.text for a in actions if isinstance(a, Say))
    assert "earliest I can get someone out is today at 10 AM" in said
    assert "put you straight through" not in said
    assert not [a for a in actions if type(a).__name__ == "Transfer"]
    assert actions[-2].text in LINES["ask_when"]  # type: ignore[union-attr]


@pytest.mark.parametrize("forwarded", [None, "+15035550199"])
async def test_a_recorded_call_says_so_first_and_in_full(business: Business, forwarded: str | None) -> None:
    recorded = business.model_copy(update={"record_calls": True})
    start = CallStarted(business="mikes-plumbing", caller=CALLER, call_id="r1", forwarded_from=forwarded)
    notice, greeting, end = ConversationMachine(recorded, FixedClock(NOW), seed=3).handle(start)
    assert isinstance(notice, Say) and notice.text == LINES["recording_notice"][0] and not notice.interruptible
    assert isinstance(greeting, Say) and greeting.interruptible and isinstance(end, EndOfTurn)
    unrecorded = ConversationMachine(business, FixedClock(NOW), seed=3).handle(start)
    assert [a.text for a in unrecorded if isinstance(a, Say)] == [greeting.text]  # the same greeting, no notice
    engine = ConversationMachine(recorded, FixedClock(NOW), seed=3)
    engine.handle(start)
    assert engine.memory.last_prompt == greeting.text  # a re-prompt repeats the question, not the notice


async def test_a_business_words_its_own_recording_notice(business: Business) -> None:
    own = business.model_copy(
        update={"record_calls": True, "recording_notice": "Calls are recorded for training.", "greeting": "Hi there!"}
    )
    actions = ConversationMachine(own, FixedClock(NOW)).handle(
        CallStarted(business="mikes-plumbing", caller=CALLER, call_id="r2")
    )
    assert [a.text for a in actions if isinstance(a, Say)] == ["Calls are recorded for training.", "Hi there!"]
    texted = ConversationMachine(own, FixedClock(NOW)).handle(
        CallStarted(business="mikes-plumbing", caller=CALLER, call_id="r3", channel="sms")
    )
    assert not [a for a in texted if isinstance(a, Say)]  # a text thread is not a recorded call
