"""The app under uvicorn with its Realtime engine pointed at the local Realtime server, and a Twilio caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from silentpartner.voice.call import CallTiming
from tests.conftest import PINNED_NOW
from tests.support.fake_realtime import API_KEY, Brain, FakeRealtime, speech_ulaw
from tests.voice.voice_app import VoiceApp, voice_app

SPEED = 4.0  # the simulated line plays the agent's audio at 4x real time


@dataclass
class RealtimeApp:
    app: VoiceApp
    model: FakeRealtime


@contextmanager
def realtime_app(
    sqlite_url: str, brain: Brain, *, transcripts: list[str] | None = None, connect_delay: float = 0.0, **settings: Any
) -> Iterator[RealtimeApp]:
    with FakeRealtime(brain, transcripts=transcripts, connect_delay=connect_delay) as model:
        overrides = {"openai_api_key": API_KEY, "openai_realtime_url": model.url, **settings}
        with voice_app(
            sqlite_url, PINNED_NOW, timing=CallTiming(playout_timeout_s=5.0), speed=SPEED, **overrides
        ) as app:
            yield RealtimeApp(app, model)
        assert not model.brain_errors, model.brain_errors


async def caller_speaks(call: Any, ms: int = 400) -> None:
    """A caller turn: a tone the fake server's VAD hears as speech, then the pause that ends the turn."""
    await call.say(speech_ulaw(ms), trailing_silence_ms=400)
