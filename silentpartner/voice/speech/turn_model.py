"""End of turn from the sound of the caller's voice: smart-turn v3.2 (ONNX) on the turn's audio so far.

The model is a Whisper-tiny encoder with a classifier head, trained on single turns: it hears the last
8 seconds of a turn (16 kHz; a shorter turn is padded with silence in front) as Whisper log-mel features
(80 mel bands x 800 frames of 10 ms, on a waveform normalized to zero mean and unit variance) and answers
the probability that the speaker has finished. Above one half it calls the turn complete.

It judges intonation and rhythm, not words, so it is one witness among several: a caller pausing at a
comma often sounds finished (see `voice/floor.py`, which weighs the transcript as well).

Synchronous on purpose: the engine runs it in its worker pool, never on the event loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from silentpartner.voice.audio import STT_RATE

WINDOW_SECONDS = 8
WINDOW_SAMPLES = WINDOW_SECONDS * STT_RATE
COMPLETE = 0.5  # the model's own decision threshold
_NORMALIZE_EPS = 1e-7


class TurnModel:
    """Wraps the loaded smart-turn ONNX session; `complete_probability` is thread-safe."""

    def __init__(self, session: Any) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self._session = session
        self._features = FeatureExtractor(feature_size=80, sampling_rate=STT_RATE, chunk_length=WINDOW_SECONDS)

    def complete_probability(self, pcm16k: bytes) -> float:
        """16-bit little-endian mono 16 kHz PCM of the turn so far -> probability (0..1) that it is over."""
        samples = np.frombuffer(pcm16k[: len(pcm16k) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
        return float(self._session.run(None, {"input_features": self.features(samples)[None]})[0].reshape(-1)[0])

    def features(self, samples: np.ndarray) -> np.ndarray:
        """float32 samples at 16 kHz -> the model's input, float32 [80, 800] (the last 8 s, padded in front)."""
        window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
        tail = samples[-WINDOW_SAMPLES:]
        if len(tail):
            window[-len(tail) :] = tail
        window = (window - window.mean()) / np.sqrt(window.var() + _NORMALIZE_EPS)
        return np.asarray(self._features(window, padding=0), dtype=np.float32)
