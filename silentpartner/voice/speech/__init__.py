"""The offline speech engine (the `[speech]` extra): Silero VAD, Whisper tiny.en and a local voice.

Importing this package needs only numpy; the models' packages are imported when `OfflineSpeech.shared()`
loads them, and `OfflineSpeech.available()` says why not when they are missing.
"""

from silentpartner.voice.speech.engine import OfflineSpeech
from silentpartner.voice.speech.models import ModelIntegrityError, SpeechUnavailable
from silentpartner.voice.speech.vad import SpeechEnded, SpeechPausing, SpeechStarted, Vad

__all__ = [
    "ModelIntegrityError",
    "OfflineSpeech",
    "SpeechEnded",
    "SpeechPausing",
    "SpeechStarted",
    "SpeechUnavailable",
    "Vad",
]
