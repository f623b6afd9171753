"""The owner hears about every call that came to nothing, with what the caller said, as the business
chose: at once (each), in the evening digest (digest) or not at all (off)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from silentpartner import sms_text as texts
from silentpartner.business import Business
from silentpartner.clock import FixedClock
from silentpartner.store.models import CallRecord, Job, MessageRecord
from silentpartner.voice import records
from tests.messaging.conftest import Bench, start_bench
from tests.support.fake_twilio import FakeTwilio

CALLER = "+15035550144"
SID = "CA" + "5" * 32


@pytest.fixture(params=["each", "digest", "off"])
async def bench_for_mode(
    request: pytest.FixtureRequest, sqlite_url: str, demo: Business, clock: FixedClock, twilio: FakeTwilio
) -> AsyncIterator[Bench]:
    business = demo.model_copy(update={"owner_notifications": request.param})
    bench = start_bench({"database_url": sqlite_url}, business, clock, None, twilio)
    try:
        yield bench
    finally:
        await bench.http.aclose()
        bench.server.stop()


async def _a_call_that_came_to_nothing(bench: Bench, *, outcome: str = "none") -> None:
    now = bench.clock.now()

    async def write(session) -> None:
        record = CallRecord(
            sid=SID,
            business=bench.business.slug,
            from_number=CALLER,
            to_number=bench.business.main_number,
            status="completed",
            outcome=outcome,
            transcript=[
                {"role": "agent", "text": "Thanks for calling Mike's Plumbing, this is Sam."},
                {"role": "caller", "text": "Hi, my water heater is making a banging noise."},
                {"role": "agent", "text": "Sorry to hear that. Can I get your name?"},
                {"role": "caller", "text": "Dana Lee."},
                {"role": "caller", "text": "[keys 1]", "keys": "1"},
            ],
            details={"name": "Dana Lee", "phone": CALLER, "problem": "water heater is making a banging noise"},
            started_at=now - timedelta(seconds=50),
            ended_at=now,
            end_reason="socket closed",
        )
        session.add(record)
        await session.flush()
        await records.settle_record(session, record, now=now)

    await bench.db(write)
    await bench.drain()


async def test_the_owner_hears_what_the_caller_said_as_the_business_chose(bench_for_mode: Bench) -> None:
    bench = bench_for_mode
    await _a_call_that_came_to_nothing(bench)
    expected = (
        f"Call from Dana Lee ({CALLER}), nothing booked: they hung up. Problem: water heater is making a "
        'banging noise. They said: "Hi, my water heater is making a banging noise." / "Dana Lee." '
        "Call or text them back."
    )
    (note,) = await bench.rows(MessageRecord, MessageRecord.kind == "owner_call")
    assert note.body == expected
    assert note.to_number == bench.business.owner_mobile
    sent_to_owner = bench.twilio.messages_to(bench.business.owner_mobile)
    mode = bench.business.owner_notifications
    if mode == "each":
        assert [m.body for m in sent_to_owner] == [expected]
    else:
        assert sent_to_owner == []
        assert note.status == {"digest": "digest", "off": "suppressed"}[mode]
    # The caller's text-back goes out whatever the owner chose.
    assert len(bench.twilio.messages_to(CALLER)) == 1


async def test_a_call_that_came_to_something_is_not_reported(local_bench: Bench) -> None:
    await _a_call_that_came_to_nothing(local_bench, outcome="booked")
    assert await local_bench.rows(Job, Job.kind == "call_summary") == []
    assert local_bench.twilio.messages == []


def test_the_note_is_capped_and_names_a_hidden_number(demo: Business) -> None:
    body = texts.owner_call_summary(
        demo,
        caller=None,
        name=None,
        how_it_ended="the call was cut off on our side",
        problem=None,
        address=None,
        said=["word " * 200],
    )
    assert body.startswith("Call from a caller with a hidden number, nothing booked: the call was cut off on our side.")
    assert len(body) == 600 and body.endswith("…")
    silent = texts.owner_call_summary(
        demo, caller=CALLER, name=None, how_it_ended="they hung up", problem=None, address=None, said=[]
    )
    assert silent == f"Call from {CALLER}, nothing booked: they hung up. They said nothing. Call or text them back."
