"""Recorded calls through a real uvicorn: Twilio's side simulated (signed webhook, media websocket,
playback at real time with marks and clears), the caller in a synthesized voice, the agent on the offline
speech engine. The recording is read back from the store and checked channel by channel against what the
simulated line carried: the caller's audio on the left where and when the caller spoke, the agent's on
the right as it was played, and nothing of what a barge-in's `clear` dropped."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from silentpartner.conversation.replies import LINES
from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.support.caller_voice import caller_available, caller_says
from tests.support.recorded_calls import RATE, agent_media, decoded, loud, recording_business_file, recording_of, window
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, voice_app

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]


async def test_a_recorded_call_keeps_each_side_on_its_own_channel_in_time(sqlite_url: str, tmp_path: Path) -> None:
    said = caller_says("My kitchen faucet is leaking.")
    with voice_app(
        sqlite_url, PINNED_NOW, businesses_file=recording_business_file(tmp_path), recordings_dir=tmp_path / "rec"
    ) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.4)
            greeting_bytes = len(call.agent_audio)
            await call.say(said)
            await call.agent_finished_turn(quiet=0.4)
            await call.stop()  # the caller hangs up
            await call.wait_closed()
        record, audio = await recording_of(app, placed.call_sid)

    caller, agent = audio[:, 0], audio[:, 1]
    media = agent_media(call)
    (spoke_from, spoke_until) = call.caller_spans[0]
    greeting_from = media[0][0]
    greeting_until = greeting_from + greeting_bytes / RATE  # played back to back from its first chunk
    reply_from = next(at for at, _ in media if at > spoke_until)

    # While the agent greeted: the agent's channel speaks, the caller's is silent (nothing came from them).
    assert greeting_until < spoke_from
    assert loud(window(agent, call, greeting_from, greeting_until))
    assert not window(caller, call, greeting_from, greeting_until).any()
    # While the caller spoke: their channel speaks, the agent's is silent.
    assert loud(window(caller, call, spoke_from, spoke_until))
    assert not window(agent, call, greeting_until, spoke_until).any()
    # Then the agent answered, on its own channel.
    assert loud(window(agent, call, reply_from, reply_from + 1.0))
    # Nothing was lost or made up on either side (FLAC is lossless): the very samples that crossed the line.
    assert np.array_equal(caller[caller != 0], decoded(said)[decoded(said) != 0])
    heard = decoded(bytes(call.played_audio))
    assert np.array_equal(agent[agent != 0], heard[heard != 0])
    assert len(audio) / RATE == pytest.approx(time.monotonic() - call.started_at, abs=15)  # about the call's length

    transcript = [entry["text"] for entry in record.transcript if entry["role"] == "agent"]
    assert transcript[0] == LINES["recording_notice"][0]  # the caller was told first
    assert record.recording_bytes == (app.settings.recordings_dir / record.recording_key).stat().st_size
    assert record.recording_key == f"mikes-plumbing/2026/11/{placed.call_sid}.flac"
    assert list((tmp_path / "rec" / ".in-progress").iterdir()) == []  # the raw tracks are gone


async def test_a_barge_in_cuts_the_agents_channel_where_the_caller_stopped_hearing_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    with voice_app(
        sqlite_url, PINNED_NOW, businesses_file=recording_business_file(tmp_path), recordings_dir=tmp_path / "rec"
    ) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.4)
            await call.say(caller_says("Do you work on tankless water heaters?"))
            await call.agent_starts_speaking()
            await call.say(caller_says("Sorry, my kitchen faucet is leaking."))
            await call.agent_finished_turn(quiet=0.4)
            await call.stop()
            await call.wait_closed()
        _, audio = await recording_of(app, placed.call_sid)

    assert call.clears == 1
    dropped = (len(call.agent_audio) - len(call.played_audio)) / RATE
    assert dropped > 1.0, "the agent had too little left to say for the cut to show"
    cleared_at = call.clear_times[0]
    next_reply = next(at for at, _ in agent_media(call) if at > cleared_at)
    # Without the cut, the dropped audio would sound here on the agent's channel.
    silent_until = min(cleared_at + dropped, next_reply)
    assert not window(audio[:, 1], call, cleared_at, silent_until).any()
    assert loud(window(audio[:, 0], call, *call.caller_spans[1]))  # the caller who barged in is on the left


async def test_an_unrecorded_call_says_no_notice_and_keeps_no_file(sqlite_url: str, tmp_path: Path) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=8.0, recordings_dir=tmp_path / "rec") as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            await call.stop()
            await call.wait_closed()
        record = await app.call_record(placed.call_sid)
    assert record is not None and record.recording_key is None
    assert record.transcript and record.transcript[0]["text"] != LINES["recording_notice"][0]
    assert not any(LINES["recording_notice"][0] in entry["text"] for entry in record.transcript)
    assert not (tmp_path / "rec").exists()
