"""Silero VAD as a per-call stream of speech probabilities, one per 32 ms frame of 8 kHz audio.

Two ONNX builds, both MIT (snakers4/silero-vad), both shared by every call (one session each):
- `Silero8k`: Silero v5 (inputs `input` [batch, context + window], `state` [2, batch, 128], `sr`), which
  runs natively at 8 kHz on 256-sample windows with 32 samples of context. No resampling at all.
- `Silero16k`: Silero v6 as faster-whisper ships it (inputs `input` [frames, 576], `h`, `c`), 16 kHz only:
  the 8 kHz audio is upsampled with a streaming resampler and cut into 512-sample windows (the same 32 ms).

A stream is fed 8 kHz samples (int16 scale, float32) in chunks of any size and returns the probabilities of
the frames those samples completed, in order. Frame k is 8 kHz samples 256k..256k+255 in both builds; the
16 kHz build returns a frame's probability a couple of milliseconds of audio later (the resampler's look-
ahead), which only shifts when it is known, not which audio it describes.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from silentpartner.voice.audio import PHONE_RATE, STT_RATE, Resampler

FRAME_SAMPLES = 256  # 32 ms at 8 kHz
_SCALE = np.float32(1 / 32768)


class SileroStream(Protocol):
    def feed(self, samples8k: np.ndarray) -> np.ndarray: ...  # probabilities of the frames completed


class SileroModel(Protocol):
    name: str

    def stream(self) -> SileroStream: ...


class Silero8k:
    """Silero v5 at 8 kHz."""

    name = "silero-v5-8k"

    def __init__(self, session: Any) -> None:
        self.session = session

    def stream(self) -> SileroStream:
        return _Stream8k(self.session)


class _Stream8k:
    CONTEXT = 32

    def __init__(self, session: Any) -> None:
        self._session = session
        # One input row: the last CONTEXT samples of the previous frame, then the frame; reused every frame.
        self._row = np.zeros((1, self.CONTEXT + FRAME_SAMPLES), dtype=np.float32)
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._sr = np.array(PHONE_RATE, dtype=np.int64)
        self._pending = np.zeros(FRAME_SAMPLES, dtype=np.float32)  # samples of the frame being filled
        self._have = 0

    def feed(self, samples8k: np.ndarray) -> np.ndarray:
        out: list[float] = []
        taken = 0
        while taken < len(samples8k):
            count = min(FRAME_SAMPLES - self._have, len(samples8k) - taken)
            self._pending[self._have : self._have + count] = samples8k[taken : taken + count]
            self._have += count
            taken += count
            if self._have == FRAME_SAMPLES:
                out.append(self._run())
                self._have = 0
        return np.asarray(out, dtype=np.float32)

    def _run(self) -> float:
        row = self._row
        row[0, : self.CONTEXT] = row[0, -self.CONTEXT :]  # the previous frame's tail is this one's context
        np.multiply(self._pending, _SCALE, out=row[0, self.CONTEXT :])
        probability, self._state = self._session.run(None, {"input": row, "state": self._state, "sr": self._sr})
        return float(probability[0, 0])


class Silero16k:
    """Silero v6 (faster-whisper's build) at 16 kHz, on upsampled phone audio."""

    name = "silero-v6-16k"

    def __init__(self, session: Any) -> None:
        self.session = session

    def stream(self) -> SileroStream:
        return _Stream16k(self.session)


class _Stream16k:
    WINDOW = 2 * FRAME_SAMPLES  # 512 samples at 16 kHz
    CONTEXT = 64

    def __init__(self, session: Any) -> None:
        self._session = session
        self._resampler = Resampler(PHONE_RATE, STT_RATE)
        self._pending = np.zeros(0, dtype=np.float32)  # 16 kHz samples not yet in a frame
        self._context = np.zeros(self.CONTEXT, dtype=np.float32)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)

    def feed(self, samples8k: np.ndarray) -> np.ndarray:
        up = self._resampler.process(samples8k)
        self._pending = np.concatenate([self._pending, up]) if len(self._pending) else up
        count = len(self._pending) // self.WINDOW
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        scaled = self._pending[: count * self.WINDOW].reshape(count, self.WINDOW) * _SCALE
        self._pending = self._pending[count * self.WINDOW :]
        rows = np.empty((count, self.CONTEXT + self.WINDOW), dtype=np.float32)
        rows[0, : self.CONTEXT] = self._context
        if count > 1:
            rows[1:, : self.CONTEXT] = scaled[:-1, -self.CONTEXT :]
        rows[:, self.CONTEXT :] = scaled
        self._context = scaled[-1, -self.CONTEXT :].copy()
        probabilities, self._h, self._c = self._session.run(None, {"input": rows, "h": self._h, "c": self._c})
        return np.asarray(probabilities, dtype=np.float32).reshape(-1)
