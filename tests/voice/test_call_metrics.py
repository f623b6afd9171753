"""What `/metrics` counts of a phone call, scraped from the app on a real uvicorn while a simulated Twilio
caller (synthesized voice, offline speech engine) is on the line and after it hangs up."""

from __future__ import annotations

import pytest

from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.support.caller_voice import caller_available, caller_says
from tests.support.metrics_scrape import scrape
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, voice_app

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]


async def test_a_call_is_counted_in_progress_then_by_outcome_with_its_turn_latencies(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=8.0) as app:
        before = await scrape(app.server.url)
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            during = await scrape(app.server.url)
            for line in ("Do you work on tankless water heaters?", "My kitchen faucet is leaking."):
                await call.say(caller_says(line))
                await call.agent_finished_turn(quiet=0.3)
            await call.stop()
            await call.wait_closed()
        record = await app.call_record(placed.call_sid)
        after = await scrape(app.server.url)

    assert before.value("silentpartner_calls_in_progress") == 0
    assert during.value("silentpartner_calls_in_progress") == 1
    assert after.value("silentpartner_calls_in_progress") == 0
    assert record is not None and record.outcome is not None
    outcome = record.outcome
    assert after.value("silentpartner_calls_total", business="mikes-plumbing", outcome=outcome) == 1
    assert after.total("silentpartner_calls_total") == 1
    turns = after.value("silentpartner_turn_latency_seconds_count") - before.value(
        "silentpartner_turn_latency_seconds_count"
    )
    assert turns == len(record.latencies_ms) >= 2
    assert after.value("silentpartner_turn_latency_seconds_sum") == pytest.approx(sum(record.latencies_ms) / 1000)
