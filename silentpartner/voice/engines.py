"""What a live call needs from a speech engine. The offline engine (`speech/engine.py`) fits it; a
cloud engine can slot in by offering the same methods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Vad(Protocol):
    """Per call: fed the caller's μ-law 8 kHz audio, tells when speech starts and ends."""

    def feed(self, mulaw8k: bytes) -> list: ...  # SpeechStarted(at) | SpeechEnded(at, pcm16k, duration)

    def flush(self) -> list: ...

    @property
    def hearing(self) -> bool: ...  # sound that may be speech, confirmed or not


class SpeechEngine(Protocol):
    def new_vad(self, *, min_speech_ms: int = 250, end_silence_ms: int = 600) -> Vad: ...

    async def transcribe(self, pcm16k: bytes) -> str: ...

    async def end_of_turn(self, pcm16k: bytes) -> float | None:
        """The probability that the turn in `pcm16k` (16 kHz, all of it so far) is complete, from the sound
        of it; None when the engine has no end-of-turn model."""
        ...

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        """μ-law 8 kHz audio for `text`, sentence by sentence."""
        ...
