"""What a live call needs from a speech engine. The offline engine (`speech/engine.py`) fits it; a
cloud engine can slot in by offering the same methods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Vad(Protocol):
    """Per call: fed the caller's μ-law 8 kHz audio, tells when speech starts and ends."""

    def feed(self, mulaw8k: bytes) -> list: ...  # SpeechStarted(at) | SpeechEnded(at, pcm16k, duration) | SpeechPausing

    def flush(self) -> list: ...

    @property
    def hearing(self) -> bool: ...  # sound that may be speech, confirmed or not


class SpeechEngine(Protocol):
    def new_vad(self, *, min_speech_ms: int = 250, end_silence_ms: int = 600, announce_pauses: bool = False) -> Vad:
        """`announce_pauses`: also report, as `SpeechPausing(at, pcm16k)`, the audio of a SpeechEnded that will
        follow unless the caller goes on (so transcribing it can start early)."""
        ...

    async def transcribe(self, pcm16k: bytes) -> str: ...

    async def end_of_turn(self, pcm16k: bytes) -> float | None:
        """The probability that the turn in `pcm16k` (16 kHz, all of it so far) is complete, from the sound
        of it; None when the engine has no end-of-turn model."""
        ...

    def synthesize(self, text: str, *, urgent: bool = True) -> AsyncIterator[bytes]:
        """μ-law 8 kHz audio for `text`, sentence by sentence. `urgent`: the caller is waiting for its first
        sentence (not a sentence rendered ahead while an earlier one plays)."""
        ...
