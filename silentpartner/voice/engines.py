"""The speech engines a call can run on, and which one a business's calls get.

- offline: local VAD, STT and TTS (`speech/engine.py`) under the call floor (`call.py`); `SpeechEngine` below
  is what a live call needs from it.
- realtime: OpenAI Realtime speech-to-speech (`realtime/`); the model hears and speaks, the conversation engine
  gives it instructions and guarded tools. A call whose Realtime socket drops goes on with the offline engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from silentpartner.business import Business
    from silentpartner.settings import Settings


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


EngineName = Literal["realtime", "offline"]


def engine_for(settings: Settings, business: Business) -> tuple[EngineName, str]:
    """Which engine answers this business's calls, and why (one line, for logs and `doctor`).

    A business that asks for realtime without OPENAI_API_KEY gets offline: a missing secret fails closed
    to the engine that needs none. CALL_BRAIN=chat asks for the chat model on calls, which speaks through the
    offline engine, so it is the default then."""
    keyed = bool(settings.secret("openai_api_key"))
    if business.speech is None and settings.call_brain == "chat":
        return "offline", "CALL_BRAIN=chat: the chat model answers calls, with offline speech"
    wanted = business.speech or ("realtime" if keyed else "offline")
    if wanted == "realtime" and not keyed:
        return "offline", "speech = 'realtime' but OPENAI_API_KEY is not set: calls use the offline engine"
    if wanted == "realtime":
        return "realtime", f"OpenAI Realtime ({settings.openai_realtime_model}, voice {business.voice})"
    return "offline", "offline engine (local speech)"
