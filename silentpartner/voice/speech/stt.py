"""Speech to text: one Whisper tiny.en decode per VAD-delimited utterance (faster-whisper, CTranslate2 int8).

Synchronous on purpose: the engine runs it in its thread pool, never on the event loop.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from silentpartner.voice.audio import STT_RATE

MIN_SECONDS = 0.1  # anything shorter cannot hold a word; Whisper would only make one up
_SPACES = re.compile(r"\s+")


class Transcriber:
    """Wraps a loaded faster_whisper.WhisperModel with the settings tuned for short phone turns."""

    def __init__(self, model: Any, *, beam_size: int = 1) -> None:
        self._model = model
        self._beam_size = beam_size

    def transcribe(self, pcm16k: bytes) -> str:
        """16-bit little-endian mono 16 kHz PCM -> text ("" for silence or a clip too short to hold speech)."""
        samples = np.frombuffer(pcm16k[: len(pcm16k) // 2 * 2], dtype="<i2")
        if len(samples) < MIN_SECONDS * STT_RATE:
            return ""
        audio = samples.astype(np.float32) / 32768.0
        segments, _info = self._model.transcribe(
            audio,
            language="en",
            task="transcribe",
            beam_size=self._beam_size,
            temperature=0.0,  # greedy and repeatable; no fallback sampling on a phone turn
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # the call's VAD already cut the utterance
        )
        text = " ".join(segment.text.strip() for segment in segments)
        return _SPACES.sub(" ", text).strip()
