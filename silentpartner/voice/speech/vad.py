"""Voice activity detection for one call: Silero VAD over the caller's 8 kHz μ-law.

Silero works on 32 ms windows. Two builds of it are supported (`silero.py`):
- Silero v5 (the `silero_vad.onnx` in the pipecat-ai wheel) runs natively at 8 kHz on 256-sample windows,
  so the phone audio goes in as it comes, with no resampling per frame;
- Silero v6 (the one faster-whisper ships) is 16 kHz only: each window is upsampled first.

Either way the detector keeps the call's recent audio in one 8 kHz numpy buffer and works on frame
indices (frame k is samples 256k..256k+255); an utterance's audio is a slice of that buffer, upsampled to
16 kHz for Whisper once, when it is handed over. The model's recurrent state is carried from frame to
frame, so the detector is stateful per call; the ONNX session itself is shared by all calls.

Events:
- `SpeechStarted` once the caller has spoken for `min_speech_ms` (so a cough or an "mm-hm" is not a
  barge-in); `at` is the stream time where that speech began.
- `SpeechEnded` after `end_silence_ms` of silence; `at` is the stream time where the speech stopped,
  `duration` the seconds from its start to its end, and `pcm16k` the utterance with a little audio either
  side (Whisper does better with a short lead-in), 16-bit little-endian mono at 16 kHz.
- `SpeechPausing` (only with `announce_pauses`) once the voice has been quiet for the post-roll (200 ms)
  of the `end_silence_ms`: if it stays quiet, the `SpeechEnded` that follows carries exactly this
  `pcm16k`, byte for byte, so work on it can start early; if the caller goes on, it is simply superseded
  (at most one per pause).
A burst of speech that ends before `min_speech_ms` produces no events at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from silentpartner.voice.audio import PHONE_RATE, STT_RATE, ULAW_DECODE, resample
from silentpartner.voice.speech.silero import FRAME_SAMPLES, SileroModel

FRAME_SECONDS = FRAME_SAMPLES / PHONE_RATE  # 32 ms
_ULAW_FLOAT = ULAW_DECODE.astype(np.float32)  # μ-law code -> sample (int16 scale), straight to float


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # seconds of stream audio since the VAD was created, where the speech began


@dataclass(frozen=True)
class SpeechEnded:
    at: float  # seconds of stream audio since the VAD was created, where the speech ended
    pcm16k: bytes  # the utterance, 16-bit little-endian mono 16 kHz
    duration: float  # seconds of speech, start to end


MARGIN = 64  # 8 kHz samples either side of a span that its upsampling reads (the filter is 36 taps long)


@dataclass(frozen=True)
class SpeechPausing:
    at: float  # where the speech stopped, as in the SpeechEnded that follows if the caller stays quiet
    pcm16k: bytes  # that SpeechEnded's audio


def to_pcm16k(samples8k: np.ndarray, *, lead: int = 0, tail: int = 0) -> bytes:
    """8 kHz samples (int16 scale) -> 16-bit little-endian 16 kHz PCM, for Whisper. The first `lead` and
    last `tail` samples are context only: they make the edges come out as in an upsampling of the whole
    stream, and are not part of the output."""
    if len(samples8k) <= lead + tail:
        return b""
    up = resample(samples8k, PHONE_RATE, STT_RATE)[2 * lead : 2 * (len(samples8k) - tail)]
    return np.clip(np.rint(up), -32768, 32767).astype("<i2").tobytes()


class Vad:
    """One per call, cheap to create: the model is shared, only the stream state is per call."""

    THRESHOLD = 0.5  # probability that starts speech
    RELEASE = 0.35  # below this (after speech started) a frame counts as silence: hysteresis
    PRE_ROLL_MS = 200  # audio kept before the onset and handed to STT with the utterance
    POST_ROLL_MS = 200  # trailing silence kept after the last voiced frame
    MAX_UTTERANCE_S = 25.0  # Whisper sees 30 s windows; a longer monologue is cut into several utterances

    def __init__(
        self,
        model: SileroModel,
        *,
        min_speech_ms: int = 250,
        end_silence_ms: int = 600,
        announce_pauses: bool = False,
    ) -> None:
        if min_speech_ms < 0 or end_silence_ms <= 0:
            raise ValueError("min_speech_ms must be >= 0 and end_silence_ms > 0")
        self._stream = model.stream()
        self._announce_pauses = announce_pauses  # emit SpeechPausing
        self._min_voiced_frames = max(1, round(min_speech_ms / 1000 / FRAME_SECONDS))
        self._end_silence_frames = max(1, round(end_silence_ms / 1000 / FRAME_SECONDS))
        self._pre_roll_frames = round(self.PRE_ROLL_MS / 1000 / FRAME_SECONDS)
        self._post_roll_frames = round(self.POST_ROLL_MS / 1000 / FRAME_SECONDS)
        self._max_frames = round(self.MAX_UTTERANCE_S / FRAME_SECONDS)

        # The call's recent audio at 8 kHz (int16 scale): _audio[:_filled] is stream samples _base onwards.
        self._audio = np.zeros(PHONE_RATE * 4, dtype=np.float32)
        self._filled = 0
        self._base = 0
        self._frame = 0  # index of the next frame to analyse

        self._floor = 0  # first frame a pre-roll may reach back to (the end of the last utterance's speech)
        self._in_speech = False  # a candidate or a confirmed utterance is open
        self._confirmed = False  # SpeechStarted was emitted for it
        self._onset = 0  # frame index where it began
        self._start = 0  # frame index its audio starts at (the onset less the pre-roll)
        self._last_voiced = 0  # frame index of its last voiced frame
        self._voiced = 0  # voiced frames in it
        self._silence = 0  # consecutive silent frames at its end
        self._pausing_sent = False  # SpeechPausing was emitted for the pause it is in now

        self.last_probability = 0.0

    @property
    def stream_time(self) -> float:
        """Seconds of audio analysed so far."""
        return self._frame * FRAME_SECONDS

    @property
    def in_speech(self) -> bool:
        """True between SpeechStarted and SpeechEnded."""
        return self._confirmed

    @property
    def hearing(self) -> bool:
        """True from the first frame that may be speech: before SpeechStarted confirms it, and until it
        ends or is dropped as too short. A call must not decide the caller has finished while this holds."""
        return self._in_speech

    def feed(self, mulaw8k: bytes) -> list[SpeechStarted | SpeechEnded | SpeechPausing]:
        """Caller audio in (any chunk size, 8 kHz μ-law); the events it completes come out."""
        if not mulaw8k:
            return []
        samples = _ULAW_FLOAT[np.frombuffer(mulaw8k, dtype=np.uint8)]
        self._append(samples)
        probabilities = self._stream.feed(samples)
        if not len(probabilities):
            return []
        events: list[SpeechStarted | SpeechEnded | SpeechPausing] = []
        for probability in probabilities.tolist():
            self._step(probability, events)
        self._maybe_pausing(events)
        self._trim()
        return events

    def flush(self) -> list[SpeechEnded]:
        """Close an utterance that is still open (only one that reached SpeechStarted), e.g. at hang-up.

        The detector stays usable: feeding more audio afterwards carries on from the same stream time.
        """
        if not self._confirmed:
            self._reset_utterance()
            return []
        return [self._end_utterance(end_frame=self._last_voiced + 1)]

    def open_audio(self) -> tuple[float, bytes] | None:
        """The confirmed utterance still open, as (stream time its audio starts at, 16 kHz PCM so far);
        None when there is none. For transcribing a turn while the caller is still speaking."""
        if not self._confirmed:
            return None
        return self._start * FRAME_SECONDS, self._pcm16k(self._start * FRAME_SAMPLES, None)

    # -- internals ------------------------------------------------------------------------------------------

    def _append(self, samples: np.ndarray) -> None:
        need = self._filled + len(samples)
        if need > len(self._audio):
            grown = np.zeros(max(need, 2 * len(self._audio)), dtype=np.float32)
            grown[: self._filled] = self._audio[: self._filled]
            self._audio = grown
        self._audio[self._filled : need] = samples
        self._filled = need

    def _trim(self) -> None:
        """Forget audio no utterance can reach any more (before the open one, or before the pre-roll)."""
        keep_frame = self._start if self._in_speech else max(self._floor, self._frame - self._pre_roll_frames)
        drop = keep_frame * FRAME_SAMPLES - MARGIN - self._base
        if drop >= PHONE_RATE:  # shift in whole seconds, not on every frame
            self._audio[: self._filled - drop] = self._audio[drop : self._filled]
            self._filled -= drop
            self._base += drop

    def _pcm16k(self, start: int, stop: int | None) -> bytes:
        """Stream samples start..stop-1 (stop None: all received) at 16 kHz, upsampled with the audio either
        side as context, so the result is what upsampling the whole stream would give for that span."""
        begin = max(0, start - self._base)
        end = self._filled if stop is None else min(self._filled, max(begin, stop - self._base))
        lead = min(MARGIN, begin)
        tail = min(MARGIN, self._filled - end)
        return to_pcm16k(self._audio[begin - lead : end + tail], lead=lead, tail=tail)

    def _step(self, probability: float, events: list) -> None:
        index = self._frame
        self._frame += 1
        self.last_probability = probability
        if not self._in_speech:
            if probability >= self.THRESHOLD:
                self._in_speech, self._confirmed = True, False
                self._onset = self._last_voiced = index
                self._start = max(self._floor, index - self._pre_roll_frames)
                self._voiced, self._silence = 1, 0
                self._maybe_confirm(events)
            return

        if probability >= self.RELEASE:
            self._voiced += 1
            self._silence = 0
            self._last_voiced = index
            self._pausing_sent = False
        else:
            self._silence += 1

        if not self._confirmed:
            self._maybe_confirm(events)
            if not self._confirmed and self._silence >= self._end_silence_frames:
                self._reset_utterance()  # too short to be speech (a cough, a click): forget it
            return

        if self._silence >= self._end_silence_frames:
            events.append(self._end_utterance(end_frame=self._last_voiced + 1))
        elif index - self._onset + 1 >= self._max_frames:
            # A monologue longer than Whisper's window: close it here and carry straight on.
            events.append(self._end_utterance(end_frame=index + 1, keep_all=True))
            self._in_speech, self._confirmed = True, True
            self._onset = self._start = self._last_voiced = index + 1
            self._voiced, self._silence = 0, 0
            events.append(SpeechStarted(at=self._onset * FRAME_SECONDS))

    def _maybe_pausing(self, events: list[SpeechStarted | SpeechEnded | SpeechPausing]) -> None:
        """Announce the SpeechEnded to come once its audio is all here (with the context its upsampling
        reads after it), unless it has been announced for this pause already."""
        if not self._announce_pauses or not self._confirmed or self._pausing_sent:
            return
        if self._silence < self._post_roll_frames:
            return
        end_frame = self._last_voiced + 1
        stop = (end_frame + self._post_roll_frames) * FRAME_SAMPLES
        if self._base + self._filled - stop < MARGIN:
            return  # the next chunk brings it
        self._pausing_sent = True
        events.append(
            SpeechPausing(at=end_frame * FRAME_SECONDS, pcm16k=self._pcm16k(self._start * FRAME_SAMPLES, stop))
        )

    def _maybe_confirm(self, events: list[SpeechStarted | SpeechEnded]) -> None:
        if self._voiced >= self._min_voiced_frames:
            self._confirmed = True
            events.append(SpeechStarted(at=self._onset * FRAME_SECONDS))

    def _end_utterance(self, *, end_frame: int, keep_all: bool = False) -> SpeechEnded:
        """Build SpeechEnded for the open utterance; end_frame is the first frame after the speech."""
        stop = end_frame if keep_all else end_frame + self._post_roll_frames
        pcm = self._pcm16k(self._start * FRAME_SAMPLES, stop * FRAME_SAMPLES)
        start = self._onset * FRAME_SECONDS
        end = end_frame * FRAME_SECONDS
        self._floor = end_frame  # the next pre-roll may reach back into this one's trailing silence only
        self._reset_utterance()
        return SpeechEnded(at=end, pcm16k=pcm, duration=max(0.0, end - start))

    def _reset_utterance(self) -> None:
        self._in_speech = self._confirmed = self._pausing_sent = False
        self._voiced = self._silence = 0
