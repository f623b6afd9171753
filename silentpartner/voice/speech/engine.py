"""The offline speech engine: Silero VAD, Whisper tiny.en, the smart-turn end-of-turn model and a local
voice, shared by every call in a process.

    speech = await OfflineSpeech.shared()         # loads and verifies the models once, off the event loop
    vad = speech.new_vad()                        # per call
    for event in vad.feed(mulaw_frame): ...       # SpeechStarted / SpeechEnded
    text = await speech.transcribe(ended.pcm16k)  # runs in the speech worker pool
    early = await speech.transcribe_early(pcm)    # the same, but only if a worker is idle (else None)
    done = await speech.end_of_turn(turn_pcm16k)  # P(the turn is complete), or None without the model
    async for chunk in speech.synthesize("Thanks. Someone will be there tomorrow at two."):
        ...                                       # 8 kHz μ-law, one chunk per sentence

Heavy work (model loading, Whisper, the end-of-turn model, TTS) runs in one process-wide `SpeechPool`
(`pool.py`) with a worker per core and one model of each kind shared by all of them; what a caller is
waiting for goes first. With the fitted Whisper window, transcripts waiting together are decoded as one
batch. The VAD is light (about
50 µs per 20 ms frame) and runs inline in `feed`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import AsyncIterator
from typing import ClassVar

from silentpartner.logs import log_event
from silentpartner.voice.speech import models
from silentpartner.voice.speech.pool import NORMAL, REPLY, URGENT, SpeechPool, wait
from silentpartner.voice.speech.silero import Silero8k, Silero16k, SileroModel
from silentpartner.voice.speech.stt import Transcriber, Window
from silentpartner.voice.speech.tts import EspeakVoice, HibariVoice, Voice, split_sentences, to_phone
from silentpartner.voice.speech.turn_model import TurnModel
from silentpartner.voice.speech.vad import SpeechEnded, SpeechStarted, Vad

__all__ = ["OfflineSpeech", "SpeechEnded", "SpeechStarted", "Vad"]

log = logging.getLogger(__name__)

POOL = SpeechPool(name="offline-speech")  # one worker per core, shared by every call in the process


class OfflineSpeech:
    """The loaded models. Get the process-wide instance with `await OfflineSpeech.shared()`."""

    # Whisper's encoder window for every call's transcripts (see stt.py): "full" decodes exactly as
    # faster-whisper does; "fit" is about four times faster but a different decode. Set before the first load.
    stt_window: ClassVar[Window] = "full"
    _instance: ClassVar[OfflineSpeech | None] = None
    _loading: ClassVar[concurrent.futures.Future[OfflineSpeech] | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        *,
        vad_model: SileroModel,
        transcriber: Transcriber,
        voice: Voice,
        fallback_voice: Voice | None = None,
        turn_model: TurnModel | None = None,
        turn_model_missing: str = "",
    ) -> None:
        self.vad_model = vad_model
        self._transcriber = transcriber
        self.voice = voice
        self._fallback_voice = fallback_voice  # speaks a sentence the main voice failed on
        self._turn_model = turn_model
        self.turn_model_missing = turn_model_missing  # why there is no end-of-turn model ("" when there is)

    @property
    def voice_name(self) -> str:
        """ "hibari" or "espeak-ng": which voice the agent speaks with."""
        return self.voice.name

    # -- lifecycle ------------------------------------------------------------------------------------------

    @staticmethod
    def available() -> tuple[bool, str]:
        """(True, "") when the [speech] extra and a voice are installed, else (False, what is missing)."""
        missing = models.missing_modules()
        if missing:
            return False, f"the [speech] extra is not installed (missing {', '.join(missing)}); {models.INSTALL_HINT}"
        if not models.hibari_installed() and models.espeak_binary() is None:
            return False, "no offline voice: install hibari-tts (the [speech] extra) or the espeak-ng system package"
        return True, ""

    @classmethod
    async def shared(cls) -> OfflineSpeech:
        """The process-wide engine; the first call loads the models in the speech worker pool.

        Safe to call from several calls (and several event loops) at once: they all wait for one load.
        A failed load raises here (SpeechUnavailable, ModelIntegrityError) and is retried by the next call.
        """
        with cls._lock:
            if cls._instance is not None:
                return cls._instance
            if cls._loading is None:
                cls._loading = POOL.submit(cls._load, priority=URGENT)
            loading = cls._loading
        try:
            # shield: a caller that gives up waiting must not cancel the load the others are waiting for.
            instance = await asyncio.shield(asyncio.wrap_future(loading))
        except BaseException:
            with cls._lock:
                if cls._loading is loading and loading.done():
                    cls._loading = None
            raise
        with cls._lock:
            cls._instance = instance
        return instance

    @classmethod
    def configure(cls, *, window: Window, workers: int | None) -> None:
        """The operator's choices (SPEECH_STT_WINDOW, SPEECH_WORKERS), applied before the first load; once the
        models are loaded (or loading) the process keeps what it has, and says so when asked for otherwise."""
        with cls._lock:
            loaded = cls._instance is not None or cls._loading is not None
            if loaded and (window != cls.stt_window or (workers is not None and workers != POOL.workers)):
                log_event(log, "speech.configure_ignored", logging.WARNING, reason="models already loaded")
                return
            cls.stt_window = window
            if workers is not None:
                POOL.workers = workers  # the pool starts its threads as work comes, up to this many

    @classmethod
    def _load(cls) -> OfflineSpeech:
        ok, why = cls.available()
        if not ok:
            raise models.SpeechUnavailable(why)
        vad_model = load_vad_model()
        transcriber = Transcriber(models.load_whisper(num_workers=POOL.workers), window=cls.stt_window)
        voice = load_voice()
        binary = models.espeak_binary()
        fallback = EspeakVoice(binary) if binary is not None and not isinstance(voice, EspeakVoice) else None
        turn_model, missing = load_turn_model()
        log_event(
            log,
            "speech.loaded",
            voice=voice.name,
            vad=vad_model.name,
            fallback=fallback.name if fallback else None,
            end_of_turn_model=turn_model is not None,
        )
        return cls(
            vad_model=vad_model,
            transcriber=transcriber,
            voice=voice,
            fallback_voice=fallback,
            turn_model=turn_model,
            turn_model_missing=missing,
        )

    # -- per call -------------------------------------------------------------------------------------------

    def new_vad(self, *, min_speech_ms: int = 250, end_silence_ms: int = 600, announce_pauses: bool = False) -> Vad:
        """A detector for one call's inbound audio (`announce_pauses`: see vad.SpeechPausing)."""
        return Vad(
            self.vad_model,
            min_speech_ms=min_speech_ms,
            end_silence_ms=end_silence_ms,
            announce_pauses=announce_pauses,
        )

    @property
    def pool(self) -> SpeechPool:
        return POOL

    async def transcribe(self, pcm16k: bytes, *, prompt: str = "") -> str:
        """One utterance (16-bit LE mono 16 kHz) -> text, decoded in the worker pool ahead of other work.

        `prompt`: what the caller said just before this audio in the same turn, so the text reads on."""
        return await wait(self._submit_transcription(pcm16k, prompt, URGENT))

    async def transcribe_early(self, pcm16k: bytes, *, prompt: str = "") -> str | None:
        """Like `transcribe`, for work that can be done without: None, at once, unless a worker is idle and
        nothing is waiting (a turn transcribed while the caller is still speaking)."""
        future = POOL.offer(self._transcriber.transcribe, pcm16k, prompt)
        return None if future is None else await wait(future)

    def _submit_transcription(self, pcm16k: bytes, prompt: str, priority: int) -> concurrent.futures.Future[str]:
        # Fitted windows: utterances that need the same window share a batch (eight turns at once finished in
        # about half the time in bench/speech.py). Full 30 s windows: batches did not pay on CPU (no faster
        # overall, and every turn in a batch waits for the slowest), so each runs alone.
        batch = None
        if self._transcriber.window == "fit":
            frames = self._transcriber.window_frames(len(pcm16k) // 2 // 160)
            batch = (f"stt:{frames}", self._transcribe_batch)
        return POOL.submit(self._transcriber.transcribe, pcm16k, prompt, priority=priority, batch=batch)

    def _transcribe_batch(self, items: list[tuple[bytes, str]]) -> list[str]:
        return self._transcriber.transcribe_many(items)

    async def end_of_turn(self, pcm16k: bytes) -> float | None:
        """P(the caller has finished) for the turn so far (16 kHz PCM), scored in the worker pool;
        None when the end-of-turn model is not installed."""
        if self._turn_model is None:
            return None
        # As urgent as the transcript: the floor needs both to end the turn, so neither may be overtaken by
        # other calls' transcripts (a first version queued scores behind them and turns waited on their score).
        return await POOL.run(self._turn_model.complete_probability, pcm16k, priority=URGENT)

    async def end_of_turn_early(self, pcm16k: bytes) -> float | None:
        """Like `end_of_turn`, only if a worker is idle and nothing is waiting; else None at once."""
        if self._turn_model is None:
            return None
        future = POOL.offer(self._turn_model.complete_probability, pcm16k)
        return None if future is None else await wait(future)

    async def synthesize(self, text: str, *, urgent: bool = True) -> AsyncIterator[bytes]:
        """The reply as 8 kHz μ-law, one chunk per sentence, each yielded as soon as it is ready.

        The first sentence goes ahead of other work in the pool when `urgent` (the caller is waiting for it);
        the next one is synthesized while the caller of this generator sends the current one. Closing the
        generator early (barge-in) drops sentences not yet started.
        """
        sentences = split_sentences(text)
        if not sentences:
            return
        upcoming = POOL.submit(self._speak, sentences[0], priority=REPLY if urgent else NORMAL)
        try:
            for index in range(len(sentences)):
                chunk = await wait(upcoming)
                if index + 1 < len(sentences):
                    upcoming = POOL.submit(self._speak, sentences[index + 1], priority=NORMAL)
                if chunk:
                    yield chunk
        finally:
            upcoming.cancel()  # no-op once done or running

    def _speak(self, sentence: str) -> bytes:
        """One sentence as 8 kHz μ-law; a sentence the main voice chokes on is said by the fallback voice."""
        try:
            return to_phone(self.voice, sentence)
        except Exception as error:
            if self._fallback_voice is None:
                raise
            log_event(log, "speech.sentence_fallback", level=logging.WARNING, voice=self.voice.name, error=repr(error))
            return to_phone(self._fallback_voice, sentence)


def load_vad_model(rate: int = 16000) -> SileroModel:
    """The Silero build the calls' VADs share.

    16000 (the default): faster-whisper's Silero v6 on upsampled phone audio. 8000: pipecat-ai's Silero v5 on
    the phone audio as it comes, which saves the resampling (about 8 µs of about 50 per 20 ms frame; the
    ONNX run is the rest) but, measured on the test caller's voice, calls the end of speech about 80 ms
    later, which every turn would pay (`bench/frames.py`, tests/voice/test_vad_models.py).
    """
    if rate == 8000:
        return Silero8k(models.load_silero_8k())
    if rate != 16000:
        raise ValueError("Silero runs at 8000 or 16000 Hz")
    return Silero16k(models.load_silero())


def load_turn_model(files: models.ModelFiles | None = None) -> tuple[TurnModel | None, str]:
    """(the end-of-turn model, "") when it is installed and intact, else (None, why not).

    Calls work without it: the call floor then ends turns on the words and a longer silence.
    """
    try:
        return TurnModel(models.load_smart_turn(files)), ""
    except Exception as error:  # missing, tampered with or unloadable: calls go on without it
        log_event(log, "speech.end_of_turn_model_missing", level=logging.WARNING, why=str(error))
        return None, str(error)


def load_voice(hibari: models.ModelFiles | None = None) -> Voice:
    """hibari's default voice when it is installed and intact; otherwise espeak-ng."""
    if models.hibari_installed():
        try:
            return HibariVoice(models.load_hibari(hibari))
        except (models.ModelIntegrityError, models.SpeechUnavailable, OSError, RuntimeError) as error:
            binary = models.espeak_binary()
            if binary is None:
                raise
            log_event(log, "speech.voice_fallback", level=logging.WARNING, voice="espeak-ng", why=str(error))
            return EspeakVoice(binary)
    binary = models.espeak_binary()
    if binary is None:
        raise models.SpeechUnavailable("no offline voice: install hibari-tts or the espeak-ng system package")
    return EspeakVoice(binary)
