"""Speech to text: Whisper tiny.en (faster-whisper's CTranslate2 model, int8) on one turn's audio.

Whisper is trained on 30 s windows and faster-whisper pads every decode to 30 s, so a 2 s phone turn costs
as much encoder work as 30 s of audio (about 260 of 300 ms). The default, `window="full"`, decodes exactly as
faster-whisper's `transcribe` does (same features, padding, prompt, suppressed tokens and no-speech rule;
checked text for text on the test callers).

`window="fit"` gives the encoder a window just long enough for the audio instead: at least 10 s, with at
least 5 s of padding after the speech (less padding makes tiny.en drop or invent words: measured on the
test callers, 2 s of padding gave 69% WER, 4 s 1.5%, 5 s in a 10 s window the same WER as 30 s). It is
about four times faster (72 against 286 ms per turn) with the same word error rate over the test callers,
but it is a different decode: borderline turns come out differently, better or worse ("Tomorrow at two,
please." in the phone round trip of tests/voice/test_call_e2e.py became "Tomorrow or two please."), so it
is not the default. bench/speech.py and bench/voice.py measure both.

`prompt` (text heard just before this audio, in the same turn) is given to Whisper as previous text, so a
turn transcribed in pieces reads on from where the last piece ended.

Synchronous on purpose: the engine runs it in its worker pool, never on the event loop. `transcribe_many`
decodes several utterances as one batch (same window for all).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np

from silentpartner.voice.audio import STT_RATE

MIN_SECONDS = 0.1  # anything shorter cannot hold a word; Whisper would only make one up
HOP = 160  # samples per feature frame (10 ms)
FULL_FRAMES = 3000  # Whisper's 30 s window
MIN_FRAMES = 1000  # 10 s
PAD_FRAMES = 500  # 5 s of padding after the audio
NO_SPEECH = 0.6  # faster-whisper's no_speech_threshold ...
LOG_PROB = -1.0  # ... and log_prob_threshold: "no speech" only when the words are unlikely too
_SPACES = re.compile(r"\s+")
Window = Literal["full", "fit"]


class Transcriber:
    """Wraps a loaded faster_whisper.WhisperModel with the settings tuned for short phone turns.

    Thread-safe: the model runs up to its `num_workers` decodes at once."""

    def __init__(self, model: Any, *, beam_size: int = 1, window: Window = "full") -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self._model = model
        self._beam_size = beam_size
        if window not in ("full", "fit"):
            raise ValueError(f"unknown Whisper window {window!r}: use 'full' or 'fit'")
        self.window = window
        self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
        self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]))
        self._max_length = int(model.max_length)

    def transcribe(self, pcm16k: bytes, prompt: str = "") -> str:
        """16-bit little-endian mono 16 kHz PCM -> text ("" for silence or a clip too short to hold speech)."""
        return self.transcribe_many([(pcm16k, prompt)])[0]

    def transcribe_many(self, items: list[tuple[bytes, str]]) -> list[str]:
        """Several (pcm16k, prompt) at once, as one batch through the encoder and the decoder."""
        audio = [_samples(pcm) for pcm, _ in items]
        texts = [""] * len(items)
        live = [i for i, samples in enumerate(audio) if len(samples) >= MIN_SECONDS * STT_RATE]
        if not live:
            return texts
        # faster-whisper leaves out the last feature frame (the padding's), so do we
        features = [self._model.feature_extractor(audio[i])[:, :-1] for i in live]
        frames = self.window_frames(max(f.shape[-1] for f in features))
        batch = np.stack([_fit(f, frames) for f in features])
        results = self._decode(batch, [self._prompt(items[i][1]) for i in live])
        for i, text in zip(live, results, strict=True):
            texts[i] = text
        return texts

    def window_frames(self, content_frames: int) -> int:
        """The encoder window (feature frames) for audio of `content_frames`."""
        if self.window == "full":
            return FULL_FRAMES
        return min(FULL_FRAMES, max(MIN_FRAMES, content_frames + PAD_FRAMES))

    def _prompt(self, previous: str) -> list[int]:
        previous_tokens = self._tokenizer.encode(" " + previous.strip()) if previous.strip() else []
        return self._model.get_prompt(self._tokenizer, previous_tokens, without_timestamps=True)

    def _decode(self, features: np.ndarray, prompts: list[list[int]]) -> list[str]:
        import ctranslate2

        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features)))
        results = self._model.model.generate(
            encoded,
            prompts,
            beam_size=self._beam_size,
            max_length=self._max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            sampling_temperature=0.0,  # greedy and repeatable; no fallback sampling on a phone turn
        )
        texts = []
        for result in results:
            tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            if result.no_speech_prob > NO_SPEECH and not avg_logprob > LOG_PROB:
                texts.append("")
                continue
            texts.append(_SPACES.sub(" ", self._tokenizer.decode(tokens)).strip())
        return texts


def _samples(pcm16k: bytes) -> np.ndarray:
    return np.frombuffer(pcm16k[: len(pcm16k) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0


def _fit(features: np.ndarray, frames: int) -> np.ndarray:
    """Features cut or padded with zeros (as faster-whisper pads) to `frames`."""
    features = features[:, :frames]
    if features.shape[-1] < frames:
        features = np.pad(features, ((0, 0), (0, frames - features.shape[-1])))
    return features
