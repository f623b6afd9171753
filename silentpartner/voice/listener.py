"""The caller's side of a live call: from the VAD to the call floor.

VAD events become floor events. At each pause the turn so far (its segments joined) is transcribed and
scored by the end-of-turn model in the speech thread pool, while the caller may still be going on, and
the results go to the floor as they come in; `apply` (LiveCall) carries out whatever the floor decides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from silentpartner.voice.engines import SpeechEngine
from silentpartner.voice.floor import CallerPaused, CallerStarted, CallFloor, Decision, Heard, Hearing, Scored

log = logging.getLogger(__name__)


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

    async def heard(self, vad_events: list, *, stream_time: float, hearing: bool) -> None:
        """What the VAD made of one chunk of caller audio (`stream_time` and `hearing` as it is now)."""
        now = self.now()
        for vad_event in vad_events:
            if not hasattr(vad_event, "pcm16k"):  # SpeechStarted
                await self.apply(self.floor.feed(now, CallerStarted()))
                continue
            # SpeechEnded, a pause after the voice stopped
            self._segments += 1
            if not self.floor.joins_segments:
                self._turn_audio = []
            self._turn_audio.append(vad_event.pcm16k)
            ended_at = now - max(0.0, stream_time - vad_event.at)
            await self.apply(self.floor.feed(now, CallerPaused(self._segments, ended_at)))
            self._listen(self._segments, b"".join(self._turn_audio))
        if hearing != self.floor.hearing:
            # A dropped sound stopped one VAD pause ago (that silence is what dropped it).
            await self.apply(self.floor.feed(now, Hearing(hearing, None if hearing else now - self.pause_s)))

    def turn_taken(self) -> None:
        """The floor ended (or dropped) the turn: the next segment starts a new one."""
        self._turn_audio = []

    def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()

    def _listen(self, segment: int, turn_pcm16k: bytes) -> None:
        """Transcribe and score the turn so far. When turns span pauses, the jobs for earlier pauses are
        superseded: those still queued in the speech pool are cancelled (one already running finishes and
        is ignored). Under the old policy every pause ends a turn of its own, which needs its transcript and
        no score."""
        if not self.floor.joins_segments:
            self._start(self._transcribe(segment, turn_pcm16k))
            return
        self.cancel()
        for job in (self._transcribe(segment, turn_pcm16k), self._score(segment, turn_pcm16k)):
            self._start(job)

    def _start(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _transcribe(self, segment: int, pcm16k: bytes) -> None:
        try:
            text = (await self.speech.transcribe(pcm16k)).strip()
        except Exception:
            log.exception("call.transcribe_failed")
            text = ""
        await self.apply(self.floor.feed(self.now(), Heard(segment, text)))

    async def _score(self, segment: int, pcm16k: bytes) -> None:
        try:
            complete = await self.speech.end_of_turn(pcm16k)
        except Exception:
            log.exception("call.end_of_turn_failed")
            complete = None
        await self.apply(self.floor.feed(self.now(), Scored(segment, complete)))
