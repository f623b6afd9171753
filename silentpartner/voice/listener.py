"""The caller's side of a live call: from the VAD to the call floor.

VAD events become floor events. At each pause the turn so far (its segments joined) is transcribed and
scored by the end-of-turn model in the speech worker pool, while the caller may still be going on, and
the results go to the floor as they come in; `apply` (LiveCall) carries out whatever the floor decides.

Work starts before the pause is certain: when the VAD announces that a pause has begun (`SpeechPausing`,
which carries the very audio the pause will close the segment with), the turn so far is transcribed and
scored at once if the pool has a worker idle (`transcribe_early`, `end_of_turn_early`; never ahead of
another call's work). If the pause comes as announced, those results are the pause's own, identical to
what a transcription started then would give, only sooner; if the caller goes on, they are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from silentpartner.voice.engines import SpeechEngine
from silentpartner.voice.floor import CallerPaused, CallerStarted, CallFloor, Decision, Heard, Hearing, Scored
from silentpartner.voice.speech.vad import SpeechPausing

log = logging.getLogger(__name__)


@dataclass
class SegmentTimes:
    """When (on the call's monotonic clock) a segment's pause was heard and its results came in."""

    paused_at: float
    heard_at: float | None = None
    scored_at: float | None = None

    @property
    def results_at(self) -> float | None:
        """When both the transcript and the score were in (the floor may need both)."""
        if self.heard_at is None:
            return None
        return max(self.heard_at, self.scored_at or self.heard_at)


class TurnListener:
    def __init__(
        self,
        speech: SpeechEngine,
        floor: CallFloor,
        *,
        now: Callable[[], float],
        apply: Callable[[list[Decision]], Awaitable[None]],
        pause_s: float,
    ) -> None:
        self.speech = speech
        self.floor = floor
        self.now = now
        self.apply = apply
        self.pause_s = pause_s  # the VAD's segment-closing pause
        self.tasks: set[asyncio.Task] = set()  # transcribing and scoring turns so far
        self._segments = 0  # segments of caller speech the VAD has closed
        self._turn_audio: list[bytes] = []  # the open turn's segments (16 kHz PCM)
        self.segment_times: dict[int, SegmentTimes] = {}  # the open turn's segments (for latency breakdowns)
        self._early: tuple[bytes, dict[str, asyncio.Task]] | None = None  # turn audio -> its early jobs
        self.early_used = 0  # pauses whose transcript had been started early (when the pause began)

    async def heard(self, vad_events: list, *, stream_time: float, hearing: bool) -> None:
        """What the VAD made of one chunk of caller audio (`stream_time` and `hearing` as it is now)."""
        now = self.now()
        for vad_event in vad_events:
            if isinstance(vad_event, SpeechPausing):
                pending = self._turn_audio if self.floor.joins_segments else []
                self._start_early(b"".join([*pending, vad_event.pcm16k]))
                continue
            if not hasattr(vad_event, "pcm16k"):  # SpeechStarted
                await self.apply(self.floor.feed(now, CallerStarted()))
                continue
            # SpeechEnded, a pause after the voice stopped
            self._segments += 1
            if not self.floor.joins_segments:
                self._turn_audio = []
            self._turn_audio.append(vad_event.pcm16k)
            self.segment_times[self._segments] = SegmentTimes(paused_at=now)
            ended_at = now - max(0.0, stream_time - vad_event.at)
            await self.apply(self.floor.feed(now, CallerPaused(self._segments, ended_at)))
            self._listen(self._segments, b"".join(self._turn_audio))
        if hearing != self.floor.hearing:
            # A dropped sound stopped one VAD pause ago (that silence is what dropped it).
            await self.apply(self.floor.feed(now, Hearing(hearing, None if hearing else now - self.pause_s)))

    def turn_taken(self) -> None:
        """The floor ended (or dropped) the turn: the next segment starts a new one."""
        self._turn_audio = []
        self.segment_times = {}

    def last_segment(self) -> SegmentTimes | None:
        """The open turn's latest segment's times (call before `turn_taken`)."""
        return self.segment_times[max(self.segment_times)] if self.segment_times else None

    def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        self._drop_early()

    def _start_early(self, turn_pcm16k: bytes) -> None:
        self._drop_early()
        transcribe_early = getattr(self.speech, "transcribe_early", None)
        if transcribe_early is None:
            return
        jobs = {"text": asyncio.ensure_future(transcribe_early(turn_pcm16k))}
        score_early = getattr(self.speech, "end_of_turn_early", None)
        if score_early is not None and self.floor.joins_segments:
            jobs["score"] = asyncio.ensure_future(score_early(turn_pcm16k))
        self._early = (turn_pcm16k, jobs)

    def _drop_early(self) -> None:
        if self._early is not None:
            for job in self._early[1].values():
                job.cancel()
            self._early = None

    def _take_early(self, turn_pcm16k: bytes) -> dict[str, asyncio.Task]:
        """The early jobs if they were started on exactly this audio; any others are dropped."""
        early, self._early = self._early, None
        if early is not None and early[0] == turn_pcm16k:
            return early[1]
        if early is not None:
            for job in early[1].values():
                job.cancel()
        return {}

    def _listen(self, segment: int, turn_pcm16k: bytes) -> None:
        """Transcribe and score the turn so far. When turns span pauses, the jobs for earlier pauses are
        superseded: those still queued in the speech pool are cancelled (one already running finishes and
        is ignored). Under the old policy every pause ends a turn of its own, which needs its transcript and
        no score."""
        early = self._take_early(turn_pcm16k)
        if not self.floor.joins_segments:
            self._start(self._transcribe(segment, turn_pcm16k, early.get("text")))
            return
        for task in self.tasks:
            task.cancel()
        self._start(self._transcribe(segment, turn_pcm16k, early.get("text")))
        self._start(self._score(segment, turn_pcm16k, early.get("score")))

    def _start(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _transcribe(self, segment: int, pcm16k: bytes, early: asyncio.Task | None = None) -> None:
        try:
            text = await _early_result(early)
            if text is None:  # no worker was idle when the pause began: transcribe it now
                text = await self.speech.transcribe(pcm16k)
            else:
                self.early_used += 1
            text = text.strip()
        except Exception:
            log.exception("call.transcribe_failed")
            text = ""
        self._note(segment, "heard_at")
        await self.apply(self.floor.feed(self.now(), Heard(segment, text)))

    async def _score(self, segment: int, pcm16k: bytes, early: asyncio.Task | None = None) -> None:
        try:
            complete = await _early_result(early)
            if complete is None:
                complete = await self.speech.end_of_turn(pcm16k)
        except Exception:
            log.exception("call.end_of_turn_failed")
            complete = None
        self._note(segment, "scored_at")
        await self.apply(self.floor.feed(self.now(), Scored(segment, complete)))

    def _note(self, segment: int, what: str) -> None:
        times = self.segment_times.get(segment)
        if times is not None:
            setattr(times, what, self.now())


async def _early_result(early: asyncio.Task | None) -> Any:
    """An early job's result; None if there was none, no worker took it, or it failed (then the work is done
    again, the usual way)."""
    if early is None:
        return None
    try:
        return await early
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():  # type: ignore[union-attr]
            raise
        return None
    except Exception:
        log.exception("call.early_job_failed")
        return None
