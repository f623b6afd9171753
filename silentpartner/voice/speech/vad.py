"""Voice activity detection for one call: Silero VAD v6 (ONNX, 16 kHz) over the caller's 8 kHz μ-law.

The caller's audio is decoded, upsampled to 16 kHz with a streaming resampler and cut into Silero's 32 ms
frames (512 samples, plus 64 samples of context from the previous frame). The LSTM state is carried from
frame to frame, so the detector is stateful per call; the ONNX session itself is shared by all calls.

Events:
- `SpeechStarted` once the caller has spoken for `min_speech_ms` (so a cough or an "mm-hm" is not a
  barge-in); `at` is the stream time where that speech began.
- `SpeechEnded` after `end_silence_ms` of silence; `at` is the stream time where the speech stopped,
  `duration` the seconds from its start to its end, and `pcm16k` the utterance with a little audio either
  side (Whisper does better with a short lead-in), 16-bit little-endian mono at 16 kHz.
A burst of speech that ends before `min_speech_ms` produces no events at all.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from silentpartner.voice.audio import STT_RATE, Resampler, ulaw_to_array

FRAME_SAMPLES = 512  # Silero v6 at 16 kHz: 32 ms frames
CONTEXT_SAMPLES = 64  # the tail of the previous frame, prepended to each input row
FRAME_SECONDS = FRAME_SAMPLES / STT_RATE


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # seconds of stream audio since the VAD was created, where the speech began


@dataclass(frozen=True)
class SpeechEnded:
    at: float  # seconds of stream audio since the VAD was created, where the speech ended
    pcm16k: bytes  # the utterance, 16-bit little-endian mono 16 kHz
    duration: float  # seconds of speech, start to end


class Vad:
    """One per call, cheap to create: the model is shared, only the stream state is per call."""

    THRESHOLD = 0.5  # probability that starts speech
    RELEASE = 0.35  # below this (after speech started) a frame counts as silence: hysteresis
    PRE_ROLL_MS = 200  # audio kept before the onset and handed to STT with the utterance
    POST_ROLL_MS = 200  # trailing silence kept after the last voiced frame
    MAX_UTTERANCE_S = 25.0  # Whisper sees 30 s windows; a longer monologue is cut into several utterances

    def __init__(self, session: Any, *, min_speech_ms: int = 250, end_silence_ms: int = 600) -> None:
        if min_speech_ms < 0 or end_silence_ms <= 0:
            raise ValueError("min_speech_ms must be >= 0 and end_silence_ms > 0")
        self._session = session
        self._min_voiced_frames = max(1, round(min_speech_ms / 1000 / FRAME_SECONDS))
        self._end_silence_frames = max(1, round(end_silence_ms / 1000 / FRAME_SECONDS))
        self._pre_roll_frames = round(self.PRE_ROLL_MS / 1000 / FRAME_SECONDS)
        self._post_roll_frames = round(self.POST_ROLL_MS / 1000 / FRAME_SECONDS)
        self._max_frames = round(self.MAX_UTTERANCE_S / FRAME_SECONDS)

        self._resampler = Resampler(8000, STT_RATE)
        self._pending = np.zeros(0, dtype=np.float32)  # 16 kHz samples (int16 scale) not yet in a frame
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._frame = 0  # index of the next frame

        self._pre_roll: deque[np.ndarray] = deque(maxlen=self._pre_roll_frames)
        self._in_speech = False  # a candidate or a confirmed utterance is open
        self._confirmed = False  # SpeechStarted was emitted for it
        self._onset = 0  # frame index where it began
        self._last_voiced = 0  # frame index of its last voiced frame
        self._voiced = 0  # voiced frames in it
        self._silence = 0  # consecutive silent frames at its end
        self._frames: list[np.ndarray] = []  # its audio, from the pre-roll on
        self._lead_frames = 0  # how many of _frames are pre-roll

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

    def feed(self, mulaw8k: bytes) -> list[SpeechStarted | SpeechEnded]:
        """Caller audio in (any chunk size, 8 kHz μ-law); the events it completes come out."""
        if not mulaw8k:
            return []
        up = self._resampler.process(ulaw_to_array(mulaw8k))
        self._pending = np.concatenate([self._pending, up]) if len(self._pending) else up
        count = len(self._pending) // FRAME_SAMPLES
        if count == 0:
            return []
        frames = self._pending[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES)
        self._pending = self._pending[count * FRAME_SAMPLES :]
        probabilities = self._probabilities(frames)
        events: list[SpeechStarted | SpeechEnded] = []
        for frame, probability in zip(frames, probabilities, strict=True):
            self._step(frame, float(probability), events)
        return events

    def flush(self) -> list[SpeechEnded]:
        """Close an utterance that is still open (only one that reached SpeechStarted), e.g. at hang-up.

        The detector stays usable: feeding more audio afterwards carries on from the same stream time.
        """
        if not self._confirmed:
            self._reset_utterance()
            return []
        tail = self._pending.copy()  # not yet analysed; it stays queued so stream time keeps counting
        if len(tail):
            self._frames.append(tail)
        return [self._end_utterance(end_frame=self._last_voiced + 1)]

    # -- internals ------------------------------------------------------------------------------------------

    def _probabilities(self, frames: np.ndarray) -> np.ndarray:
        """Silero speech probability for each 32 ms frame, carrying the LSTM state across calls."""
        scaled = frames / 32768.0
        context = np.empty((len(frames), CONTEXT_SAMPLES), dtype=np.float32)
        context[0] = self._context
        if len(frames) > 1:
            context[1:] = scaled[:-1, -CONTEXT_SAMPLES:]
        self._context = scaled[-1, -CONTEXT_SAMPLES:].astype(np.float32)
        rows = np.concatenate([context, scaled.astype(np.float32)], axis=1)
        probabilities, self._h, self._c = self._session.run(None, {"input": rows, "h": self._h, "c": self._c})
        return np.asarray(probabilities).reshape(-1)

    def _step(self, frame: np.ndarray, probability: float, events: list[SpeechStarted | SpeechEnded]) -> None:
        index = self._frame
        self._frame += 1
        self.last_probability = probability
        if not self._in_speech:
            if probability >= self.THRESHOLD:
                self._in_speech, self._confirmed = True, False
                self._onset = self._last_voiced = index
                self._voiced, self._silence = 1, 0
                self._frames = [*self._pre_roll, frame]
                self._lead_frames = len(self._pre_roll)
                self._pre_roll.clear()
                self._maybe_confirm(events)
            else:
                self._pre_roll.append(frame)
            return

        self._frames.append(frame)
        if probability >= self.RELEASE:
            self._voiced += 1
            self._silence = 0
            self._last_voiced = index
        else:
            self._silence += 1

        if not self._confirmed:
            self._maybe_confirm(events)
            if not self._confirmed and self._silence >= self._end_silence_frames:
                self._discard_candidate()
            return

        if self._silence >= self._end_silence_frames:
            events.append(self._end_utterance(end_frame=self._last_voiced + 1))
        elif index - self._onset + 1 >= self._max_frames:
            # A monologue longer than Whisper's window: close it here and carry straight on.
            events.append(self._end_utterance(end_frame=index + 1, keep_all=True))
            self._in_speech, self._confirmed = True, True
            self._onset = self._last_voiced = index + 1
            self._voiced, self._silence = 0, 0
            self._frames, self._lead_frames = [], 0
            events.append(SpeechStarted(at=self._onset * FRAME_SECONDS))

    def _maybe_confirm(self, events: list[SpeechStarted | SpeechEnded]) -> None:
        if self._voiced >= self._min_voiced_frames:
            self._confirmed = True
            events.append(SpeechStarted(at=self._onset * FRAME_SECONDS))

    def _discard_candidate(self) -> None:
        # Too short to be speech (a cough, a click): forget it, but keep its last frames as pre-roll.
        for frame in self._frames[-self._pre_roll_frames :] if self._pre_roll_frames else []:
            self._pre_roll.append(frame)
        self._reset_utterance()

    def _end_utterance(self, *, end_frame: int, keep_all: bool = False) -> SpeechEnded:
        """Build SpeechEnded for the open utterance; end_frame is the first frame after the speech."""
        frames = self._frames
        if not keep_all:
            spoken = self._lead_frames + (end_frame - self._onset)
            trailing = frames[spoken : spoken + self._post_roll_frames]
            frames = frames[:spoken] + trailing
            # What follows the kept part becomes pre-roll for the next utterance.
            leftover = self._frames[spoken:]
        else:
            leftover = []
        audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.float32)
        pcm = np.clip(np.rint(audio), -32768, 32767).astype("<i2").tobytes()
        start = self._onset * FRAME_SECONDS
        end = end_frame * FRAME_SECONDS
        self._reset_utterance()
        for frame in leftover[-self._pre_roll_frames :] if self._pre_roll_frames else []:
            self._pre_roll.append(frame)
        return SpeechEnded(at=end, pcm16k=pcm, duration=max(0.0, end - start))

    def _reset_utterance(self) -> None:
        self._in_speech = self._confirmed = False
        self._voiced = self._silence = 0
        self._frames = []
        self._lead_frames = 0
