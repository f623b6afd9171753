"""Reading a recorded call back for tests: the business file that turns recording on, the filed recording
of a call, and the recording's samples at the moments the simulated Twilio line saw things happen (its
monotonic clock, zero at the `start` message it sent, is the recording's clock within a few ms)."""

from __future__ import annotations

import asyncio
import base64
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from silentpartner.store.models import CallRecord
from silentpartner.voice.audio import ULAW_DECODE
from tests.support.twilio_caller import MediaSession

if TYPE_CHECKING:
    from tests.voice.voice_app import VoiceApp

RATE = 8000
EDGE = 0.2  # seconds trimmed off each window: our clock and the simulated line's differ by a few ms under load


def recording_business_file(tmp_path: Path, **fields: str) -> Path:
    """The demo business with `record_calls` on (and any other fields given as TOML values)."""
    text = resources.files("silentpartner").joinpath("demo_business.toml").read_text("utf-8")
    extra = "".join(f"{name} = {value}\n" for name, value in {"record_calls": "true", **fields}.items())
    path = tmp_path / "businesses.toml"
    path.write_text(text.replace("allow_emergency_transfer = true\n", "allow_emergency_transfer = true\n" + extra, 1))
    return path


async def recording_of(app: VoiceApp, sid: str, within: float = 30.0) -> tuple[CallRecord, np.ndarray]:
    """The call's record once its recording is filed (that happens after the call has ended), and the audio."""
    deadline = time.monotonic() + within
    while True:
        record = await app.call_record(sid)
        if record is not None and record.recording_key:
            break
        assert time.monotonic() < deadline, "the recording was never filed"
        await asyncio.sleep(0.05)
    audio, rate = soundfile.read(app.settings.recordings_dir / record.recording_key, dtype="int16")
    assert rate == RATE and audio.ndim == 2 and audio.shape[1] == 2
    return record, audio


def agent_media(call: MediaSession) -> list[tuple[float, int]]:
    """(arrival time, μ-law bytes) of every agent media message."""
    sizes = [len(base64.b64decode(m["media"]["payload"])) for m in call.received if m.get("event") == "media"]
    return list(zip(call.media_times, sizes, strict=True))


def window(channel: np.ndarray, call: MediaSession, start: float, end: float) -> np.ndarray:
    """The samples between two moments (monotonic) of the simulated line, less EDGE at each end."""
    assert call.started_at is not None
    first = int((start - call.started_at + EDGE) * RATE)
    last = int((end - call.started_at - EDGE) * RATE)
    assert last - first > RATE // 4, "the window is too short to say anything"
    return channel[first:last].astype(float)


def loud(samples: np.ndarray) -> bool:
    return float(np.sqrt(np.mean(samples**2))) > 300


def decoded(ulaw: bytes) -> np.ndarray:
    return ULAW_DECODE[np.frombuffer(ulaw, dtype=np.uint8)]
