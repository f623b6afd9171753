"""A call cut off by a crash: `silentpartner serve` is killed with SIGKILL while a caller is on the line,
then started again on the same database. The call must be closed out once, as of its last heartbeat,
with the caller's text-back and the owner's note sent through (the local) Twilio."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord, Job
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_available, caller_says
from tests.support.fake_twilio import FakeTwilio
from tests.support.serve_process import ServeProcess
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, OWNER, PUBLIC_URL

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]

FAST = 8.0


async def _record(url: str, sid: str) -> CallRecord | None:
    db = Database(url)
    try:
        async with db.session() as session:
            return await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
    finally:
        await db.close()


async def _jobs(url: str) -> list[Job]:
    db = Database(url)
    try:
        async with db.session() as session:
            return list(await session.scalars(select(Job).where(Job.kind.in_(["textback", "call_summary"]))))
    finally:
        await db.close()


async def _until_recorded(url: str, sid: str, within: float = 20) -> CallRecord:
    """Until the live call has written the caller's name and problem (its writer runs behind the audio)."""
    deadline = time.monotonic() + within
    while True:
        record = await _record(url, sid)
        details = (record.details or {}) if record else {}
        if record is not None and details.get("name") and details.get("problem") and record.heartbeat_at:
            return record
        assert time.monotonic() < deadline, f"the call was never recorded: {record and record.details}"
        await asyncio.sleep(0.05)


async def test_a_call_cut_off_by_kill_9_is_closed_out_once_after_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "serve.db"
    url = f"sqlite+aiosqlite:///{database}"
    with FakeTwilio(numbers=(BUSINESS_NUMBER,)) as twilio:
        env = {
            "DATABASE_URL": f"sqlite:///{database}",
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "TWILIO_API_URL": twilio.url,
            "CALL_HEARTBEAT_SECONDS": "0.5",
            "CALL_STALE_AFTER_SECONDS": "5",
            "CALL_SWEEP_EVERY_SECONDS": "0.5",
        }
        first = ServeProcess(tmp_path, env).start()
        try:
            sim = TwilioCallerSim(first.url, public_url=PUBLIC_URL, auth_token=TEST_AUTH_TOKEN, speed=FAST)
            placed = await sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
            async with sim.connect(placed) as call:
                await call.agent_finished_turn(quiet=0.4)
                await call.say(caller_says("My kitchen faucet is leaking."))
                await call.agent_finished_turn(quiet=0.4)
                await call.say(caller_says("Jordan Smith."))
                await call.agent_finished_turn(quiet=0.4)
                await _until_recorded(url, placed.call_sid)
                first.kill()
                assert await call.wait_closed() != 1000  # the socket dropped; nobody said goodbye
        finally:
            first.terminate()

        cut = await _record(url, placed.call_sid)
        assert cut is not None and (cut.status, cut.end_reason, cut.ended_at) == ("in-progress", None, None)
        last_beat = cut.heartbeat_at
        assert last_beat is not None
        restarted_at = datetime.now(UTC)

        with ServeProcess(tmp_path, env) as second:
            try:
                (note,) = await twilio.messages_arrive(1, to=OWNER, within=30)
                (textback,) = await twilio.messages_arrive(1, to=CALLER, within=30)
            except AssertionError:
                raise AssertionError("no text-back or owner's note after the restart:\n" + second.log()) from None
        # Stopped in order: anything it was still going to send has been sent.

        assert note.body.startswith(f"Call from Jordan Smith ({CALLER}), nothing booked: the call was cut off")
        assert "faucet" in note.body.lower()
        assert "missed you" in textback.body
        assert len(twilio.messages_to(OWNER)) == 1 and len(twilio.messages_to(CALLER)) == 1

        closed = await _record(url, placed.call_sid)
        assert closed is not None
        assert (closed.status, closed.end_reason) == ("cut-off", "cut off")
        assert closed.ended_at == last_beat < restarted_at  # the last moment it was alive, not the restart
        assert closed.duration_seconds == int((last_beat - closed.started_at).total_seconds())
        jobs = await _jobs(url)
        assert sorted((job.kind, job.status) for job in jobs) == [("call_summary", "done"), ("textback", "done")]
