"""A recorded call cut off by a crash: `silentpartner serve` is killed with SIGKILL mid-call, then started
again on the same database and recordings folder. The tracks it was writing are filed once the sweep has
closed the call out: the owner keeps the call up to the moment it was cut off, as a whole file (and the
call counts as cut off in /metrics)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_available, caller_says
from tests.support.fake_twilio import FakeTwilio
from tests.support.metrics_scrape import scrape
from tests.support.recorded_calls import RATE, loud, recording_business_file, window
from tests.support.serve_process import ServeProcess
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, PUBLIC_URL

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]


async def _record(url: str, sid: str) -> CallRecord | None:
    db = Database(url)
    try:
        async with db.session() as session:
            return await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
    finally:
        await db.close()


async def test_the_tracks_of_a_call_cut_off_by_kill_9_are_filed_after_the_restart(tmp_path: Path) -> None:
    database, recordings = tmp_path / "serve.db", tmp_path / "rec"
    url = f"sqlite+aiosqlite:///{database}"
    with FakeTwilio(numbers=(BUSINESS_NUMBER,)) as twilio:
        env = {
            "DATABASE_URL": f"sqlite:///{database}",
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "TWILIO_API_URL": twilio.url,
            "BUSINESSES_FILE": str(recording_business_file(tmp_path)),
            "RECORDINGS_DIR": str(recordings),
            "CALL_HEARTBEAT_SECONDS": "0.5",
            "CALL_STALE_AFTER_SECONDS": "3",
            "CALL_SWEEP_EVERY_SECONDS": "0.5",
        }
        first = ServeProcess(tmp_path, env).start()
        try:
            sim = TwilioCallerSim(first.url, public_url=PUBLIC_URL, auth_token=TEST_AUTH_TOKEN)
            placed = await sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
            async with sim.connect(placed) as call:
                await call.agent_finished_turn(quiet=0.4)
                greeting_from, greeting_until = call.media_times[0], call.media_times[0] + len(call.agent_audio) / RATE
                await call.say(caller_says("My kitchen faucet is leaking."))
                await call.agent_finished_turn(quiet=0.4)
                first.kill()
                killed_at = time.monotonic()
                assert await call.wait_closed() != 1000
        finally:
            first.terminate()

        cut = await _record(url, placed.call_sid)
        assert cut is not None and cut.end_reason is None and cut.recording_key is None
        tracks = sorted(path.name for path in (recordings / ".in-progress").iterdir())
        assert tracks == [f"{placed.call_sid}.agent.ulaw", f"{placed.call_sid}.caller.ulaw"]

        with ServeProcess(tmp_path, env) as second:
            deadline = time.monotonic() + 60
            while (record := await _record(url, placed.call_sid)) is None or record.recording_key is None:
                assert time.monotonic() < deadline, "the leftover tracks were never filed:\n" + second.log()
                await asyncio.sleep(0.1)
            assert "recording.leftover_filed" in second.log()
            scraped = await scrape(second.url)  # the sweep that closed it counted it
            assert scraped.value("silentpartner_calls_total", business="mikes-plumbing", outcome="cut_off") == 1

    assert record.end_reason == "cut off"
    assert list((recordings / ".in-progress").iterdir()) == []
    audio, rate = soundfile.read(recordings / record.recording_key, dtype="int16")
    assert rate == RATE and audio.shape[1] == 2
    assert call.started_at is not None
    # Up to the kill, less at most what the tracks' write buffers held (about a second each).
    assert killed_at - call.started_at - 1.5 < len(audio) / RATE <= killed_at - call.started_at + 0.5
    caller, agent = audio[:, 0], audio[:, 1]
    assert loud(window(agent, call, greeting_from, greeting_until))
    assert not window(caller, call, greeting_from, greeting_until).any()
    assert loud(window(caller, call, *call.caller_spans[0]))
    assert np.count_nonzero(agent[int((call.caller_spans[0][1] - call.started_at) * RATE) :]) > 0  # the reply
