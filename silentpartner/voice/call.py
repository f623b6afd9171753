"""One live phone call: the Media Streams codec, a speech engine and the conversation driver, bridged.

    caller audio -> VAD -> STT -> driver -> Say -> TTS -> μ-law media frames + marks -> Twilio

Four tasks share one call: the reader (websocket frames -> codec -> VAD, DTMF, marks), the brain (events
in order -> driver -> actions), the speaker (agent lines -> sentences -> audio chunks, each followed by a
mark) and the watcher (the floor's clock and DTMF pauses). The brain takes its inputs from one queue, so
the driver sees events in the order they were decided.

Turn-taking is decided by the `CallFloor` (`floor.py`); this module tells it what the agent is doing and
carries out its decisions. The caller's side reaches it through the `TurnListener` (`listener.py`): at each
short pause the VAD closes a segment, the turn's audio so far is transcribed and scored by the end-of-turn
model in the speech worker pool (so transcription runs while the caller may still be going on), and the
floor says when the turn is over. The driver gets one `CallerSaid` per turn.

- Barge-in (the floor's `BargeIn`): send `clear`, stop synthesis, drop queued interruptible lines, and
  give the driver `AgentInterrupted(heard)` with only the words the echoed marks prove were played.
- Hang up: after the goodbye's last mark echoes, through the REST API (or by closing the socket when
  there is no Twilio account, as with the browser phone). Transfer: the announcement plays out, then the
  call is updated to `<Dial callerId=business number>`.
- Turn latency: from the end of the caller's speech (the last voiced frame of the turn) to the first agent
  audio byte sent; it includes the floor's wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from silentpartner import metrics
from silentpartner.business import Business
from silentpartner.clock import Clock
from silentpartner.conversation.events import (
    AgentInterrupted,
    CallEnded,
    CallerSaid,
    CallStarted,
    EndOfTurn,
    Event,
    HangUp,
    KeysPressed,
    Say,
    SendSms,
    Silence,
    Transfer,
)
from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.db import Database
from silentpartner.voice.codec import (
    BadMessage,
    Connected,
    Dtmf,
    MarkFlushed,
    MarkPlayed,
    Media,
    MediaStreamCodec,
    Started,
    Stopped,
)
from silentpartner.voice.dtmf import DtmfGatherer
from silentpartner.voice.engines import SpeechEngine
from silentpartner.voice.floor import (
    AgentAsked,
    AgentState,
    BargeIn,
    CallFloor,
    Decision,
    DropTurn,
    EndTurn,
    KeyPressed,
    PromptSilence,
    Tick,
    TurnRules,
)
from silentpartner.voice.listener import TurnListener
from silentpartner.voice.playback import ChunkTag, Line, PlaybackTracker
from silentpartner.voice.recorder import CallRecorder
from silentpartner.voice.recording import NOT_RECORDING, CallTape
from silentpartner.voice.turn_latency import TurnBreakdown
from silentpartner.voice.warm_transfer import owner_summary

log = logging.getLogger(__name__)

MAX_BAD_IN_A_ROW = 10
BRAIN_GRACE_S = 10.0  # how long a turn in progress may finish after the call ended
LATE_FRAME_S = 0.2  # a caller frame handled this far behind the stream's clock counts as late


@dataclass(frozen=True)
class CallTiming:
    """Every wait in a call, injectable so tests run in a fraction of real time."""

    silence_reprompt_s: float = 8.0  # quiet this long after the agent finished: a gentle re-prompt
    silence_goodbye_s: float = 30.0  # the caller silent this long: a polite goodbye
    dtmf_pause_s: float = 2.0  # keys end after this pause (or `#`)
    playout_timeout_s: float = 20.0  # longest wait for Twilio to echo the last mark before hanging up anyway
    chunk_ms: int = 200  # audio per outbound media message (each followed by a mark)
    min_speech_ms: int = 250  # shorter speech is a cough or an "mm-hm", not a barge-in
    # The pause that closes a segment of the caller's speech: the floor then judges whether the turn is
    # over (`turn`). It is paid on every turn, so it is the biggest lever on turn latency; hibari's comma
    # pauses in a read-out phone number are over 300 ms, so shorter would cut more of them.
    end_silence_ms: int = 250
    turn: TurnRules = field(default_factory=TurnRules)
    tick_s: float = 0.1  # how often the watcher looks at the silence and DTMF clocks

    @classmethod
    def silence_only(cls, end_silence_ms: int = 500, **overrides: Any) -> CallTiming:
        """The policy before the call floor weighed words and voice: every pause of `end_silence_ms` ends the
        turn (500 ms is LiveKit's minimum endpointing delay and OpenAI server_vad's default). For comparison."""
        return cls(end_silence_ms=end_silence_ms, turn=TurnRules(policy="silence"), **overrides)


class Transport(Protocol):
    async def receive(self) -> str | bytes | None: ...  # None once the socket is closed

    async def send(self, text: str) -> None: ...

    async def close(self, code: int = 1000) -> None: ...


class CallControl(Protocol):
    @property
    def available(self) -> bool: ...

    async def hang_up(self, call_sid: str) -> bool: ...

    async def transfer(self, call_sid: str, number: str, *, caller_id: str, summary: str) -> bool: ...


class Driver(Protocol):
    outcome: Any
    finished: bool

    def handle(self, event: Event) -> Any: ...  # async iterator of actions

    def caller_details(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CallInfo:
    call_sid: str
    business: Business
    caller: str | None
    forwarded_from: str | None = None
    is_owner: bool = False
    known_customer: bool = False
    channel: str = "phone"
    staff: str | None = None  # a team member calling from their own number


class LiveCall:
    def __init__(
        self,
        *,
        info: CallInfo,
        codec: MediaStreamCodec,
        transport: Transport,
        speech: SpeechEngine,
        driver: Driver,
        control: CallControl,
        db: Database,
        clock: Clock,
        timing: CallTiming | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        heartbeat_s: float = 5.0,
        instance_id: str | None = None,
        tape: CallTape | None = None,
        recorder: CallRecorder | None = None,
        opening: Say | None = None,
    ) -> None:
        """`recorder` and `opening`: a call taken over mid-way (the Realtime engine's socket dropped) keeps the
        record it was writing and, instead of a greeting, starts with `opening`."""
        self.info = info
        self.tape = tape or NOT_RECORDING  # the recording, when the business keeps one
        self.codec = codec
        self.transport = transport
        self.speech = speech
        self.driver = driver
        self.control = control
        self.db = db
        self.clock = clock
        self.timing = timing or CallTiming()
        self.now = monotonic
        self.vad = speech.new_vad(
            min_speech_ms=self.timing.min_speech_ms, end_silence_ms=self.timing.end_silence_ms, announce_pauses=True
        )
        self.playback = PlaybackTracker()
        self.dtmf = DtmfGatherer(pause_s=self.timing.dtmf_pause_s)
        self.floor = CallFloor(
            self.timing.turn,
            reprompt_s=self.timing.silence_reprompt_s,
            goodbye_s=self.timing.silence_goodbye_s,
            now=self.now(),
        )
        self.listener = TurnListener(
            speech, self.floor, now=self.now, apply=self._apply, pause_s=self.timing.end_silence_ms / 1000
        )
        self.opening = opening
        self.recorder = recorder or CallRecorder(
            db,
            info.call_sid,
            started_at=clock.now(),
            loop_start=self.now(),
            clock=clock,
            heartbeat_s=heartbeat_s,
            instance_id=instance_id,
        )
        self.ended = asyncio.Event()
        self.end_reason = ""
        self.bad_in_a_row = 0
        self.barge_ins = 0
        self.latencies_ms: list[int] = []

        self._inputs: asyncio.Queue[Event] = asyncio.Queue()
        self._lines: asyncio.Queue[Line] = asyncio.Queue()
        self._speaking: Line | None = None
        self._speak_task: asyncio.Task | None = None
        self._lines_drained = asyncio.Event()
        self._lines_drained.set()
        self._playout_done = asyncio.Event()
        self._playout_done.set()
        self._brain_busy = False
        self._turn_ended_at: float | None = None  # when the caller's last turn's speech ended, until the agent answers
        self._turn_decided_at = 0.0  # when the floor ended that turn
        self._breakdown: TurnBreakdown | None = None  # where that turn's latency goes, filled in as it happens
        self.frames_in = 0
        self.frames_late = 0  # caller frames handled more than LATE_FRAME_S behind the stream's clock
        self._stream_origin: float | None = None  # monotonic time minus stream time, at the first frame
        self._hanging_up = False
        self._transfer_started = False
        self._transcript_entry: dict[int, dict[str, Any]] = {}  # line id -> its transcript entry
        self._sent_lines: list[Line] = []
        self._outcome_seen: Any = None
        self._details_seen: dict[str, Any] = {}
        self._record_closed = False

    # -- running ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Bridge until the stream stops, the socket closes or the call is hung up."""
        log_event(log, "call.bridged", business=self.info.business.slug, resumed=self.opening is not None)
        if self.opening is not None:  # taken over: the call, its record and its metrics are already under way
            self._queue_line(self.opening)
            self.floor.feed(self.now(), AgentAsked(EndOfTurn().expect))
        else:
            self.recorder.start()
            metrics.current().call_started()
            self.recorder.set(status="in-progress", speech_engine="offline")
            await self._inputs.put(call_started(self.info))
        await self._bridge()

    async def _bridge(self) -> None:
        tasks = [
            asyncio.create_task(self._read_loop(), name="call.reader"),
            asyncio.create_task(self._brain_loop(), name="call.brain"),
            asyncio.create_task(self._speak_loop(), name="call.speaker"),
            asyncio.create_task(self._watch_loop(), name="call.watcher"),
        ]
        ended = asyncio.create_task(self.ended.wait())
        try:
            done, _ = await asyncio.wait([*tasks, ended], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not ended and not task.cancelled() and task.exception() is not None:
                    log.error("call.task_failed", exc_info=task.exception())
                    self.end_reason = self.end_reason or "error"
        finally:
            self._end(self.end_reason or "error")
            brain = tasks[1]
            for task in [*tasks, ended]:
                if task is not brain:
                    task.cancel()
            if self._brain_busy and not brain.done():
                # Let a turn in progress (a booking being written) finish rather than cut a transaction.
                await asyncio.wait({brain}, timeout=BRAIN_GRACE_S)
            brain.cancel()
            self.listener.cancel()
            await asyncio.gather(*tasks, ended, *self.listener.tasks, return_exceptions=True)
            await self._finish()

    def _transferred(self) -> bool:
        return self.end_reason == "transferred" or (self._transfer_started and self.end_reason == "stream stopped")

    def _end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()
            # Nothing more will play out: wake anything waiting for playback.
            self._lines_drained.set()
            self._playout_done.set()

    async def _finish(self) -> None:
        """Tell the driver, write the last of the record, and settle the call (text-back if nothing came of it)."""
        try:
            async for _ in self.driver.handle(CallEnded(reason=self.end_reason or "hangup")):
                pass
        except Exception:
            log.exception("call.driver_end_failed")
        metrics.current().call_ended(self.info.business.slug, self._outcome_dict().get("action"))
        for task in (self._speak_task,):
            if task is not None and not task.done():
                task.cancel()
        await self._close_record(self.end_reason or "hangup")
        self._record_outcome()
        await self.recorder.close()
        log_event(
            log,
            "call.ended",
            reason=self.end_reason,
            outcome=self._outcome_dict().get("action"),
            turns=len(self.latencies_ms),
            barge_ins=self.barge_ins,
            frames_in=self.frames_in,
            frames_late=self.frames_late,
            early_transcripts=self.listener.early_used,
        )

    async def _close_record(self, reason: str) -> None:
        """Write the call's end and hand it to messaging (the text-back, the owner's note), once. The hang-up
        does this before it ends the call, so whoever hears of the end finds the record and jobs written."""
        if self._record_closed:
            return
        self._record_outcome()
        await self.recorder.ended(transferred=self._transferred(), reason=reason)
        # Only now: a hang-up cut short here (its turn ran out of grace) is closed again by `_finish`.
        self._record_closed = True

    # -- reader: frames in ----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            frame = await self.transport.receive()
            if frame is None:
                self._end("socket closed")
                return
            event = self.codec.receive(frame)
            if isinstance(event, BadMessage):
                self.bad_in_a_row += 1
                if event.first_of_burst:  # one line per burst; the codec counts the rest
                    log_event(
                        log, "media.bad_message", logging.WARNING, reason=event.reason, earlier=event.previous_burst
                    )
                if self.bad_in_a_row >= MAX_BAD_IN_A_ROW:
                    await self.transport.close(1007)
                    self._end("bad messages")
                    return
                continue
            self.bad_in_a_row = 0
            if isinstance(event, Media):
                self._clock_frame(event.timestamp_ms)
                self.tape.heard(event.payload, event.timestamp_ms)
                await self._on_audio(event.payload)
            elif isinstance(event, MarkPlayed | MarkFlushed):
                self._on_mark(event)
            elif isinstance(event, Dtmf):
                await self._on_key(event.digit)
            elif isinstance(event, Stopped):
                self._end("stream stopped")
                return
            elif isinstance(event, Connected | Started):
                continue

    def _clock_frame(self, timestamp_ms: int) -> None:
        """Count a caller frame, and whether it is being handled late: a box short of CPU falls behind the
        phone line, and on a real line the caller's audio would be cut (Twilio does not wait)."""
        self.frames_in += 1
        origin = self.now() - timestamp_ms / 1000
        if self._stream_origin is None or origin < self._stream_origin:
            self._stream_origin = origin  # the earliest (least delayed) arrival sets the reference
        elif origin - self._stream_origin > LATE_FRAME_S:
            self.frames_late += 1

    async def _on_audio(self, ulaw: bytes) -> None:
        try:
            vad_events = self.vad.feed(ulaw)
        except Exception:  # one bad frame must not end the call
            log.exception("call.vad_failed")
            return
        self._sync_agent()  # the floor judges a barge-in against what is playing right now
        hearing = bool(getattr(self.vad, "hearing", False))
        await self.listener.heard(vad_events, stream_time=self.vad.stream_time, hearing=hearing)

    async def _apply(self, decisions: list[Decision]) -> None:
        """Carry out what the floor decided."""
        for decision in decisions:
            if isinstance(decision, EndTurn):
                now = self.now()
                self._breakdown = TurnBreakdown(
                    speech_ended_at=decision.speech_ended_at,
                    decided_at=now,
                    segment=self.listener.last_segment(),
                    tool_seconds_before=getattr(self.driver, "tool_seconds", 0.0),
                )
                self.listener.turn_taken()
                self._turn_ended_at, self._turn_decided_at = decision.speech_ended_at, now
                log_event(log, "call.turn_end", reason=decision.reason, waited_ms=int(decision.waited * 1000))
                self.recorder.line("caller", decision.text, now)  # when the turn was taken: entries stay in order
                await self._inputs.put(CallerSaid(text=decision.text))
            elif isinstance(decision, DropTurn):
                self.listener.turn_taken()
            elif isinstance(decision, BargeIn):
                await self._barge_in()
            elif isinstance(decision, PromptSilence):
                log_event(log, "call.silence", seconds=decision.seconds)
                await self._inputs.put(Silence(seconds=decision.seconds))

    def _sync_agent(self) -> None:
        """Tell the floor what the agent is doing, when that changed."""
        pending = self._pending_lines()
        state = AgentState(
            talking=bool(pending),
            interruptible=not self._hanging_up and all(line.interruptible for line in pending),
            busy=self._hanging_up
            or self._brain_busy
            or not self._inputs.empty()
            or self._speaking is not None
            or not self._lines_drained.is_set()
            or self.codec.pending_marks > 0,
        )
        if state != self.floor.agent:
            self.floor.feed(self.now(), state)  # never decides anything by itself

    async def _on_key(self, digit: str) -> None:
        now = self.now()
        self.floor.feed(now, KeyPressed())
        entry = self.dtmf.press(digit, now)
        if entry:
            await self._keys(entry)

    async def _keys(self, digits: str) -> None:
        self.recorder.line("caller", f"[keys {digits}]", self.now(), keys=digits)
        await self._inputs.put(KeysPressed(digits))

    def _on_mark(self, event: MarkPlayed | MarkFlushed) -> None:
        if isinstance(event, MarkPlayed):
            line = self.playback.played(event.tag)
            if line is not None and line.fully_heard:
                entry = self._transcript_entry.get(line.id)
                if entry is not None and not entry.get("played"):
                    self.recorder.amend(entry, played=True)
        if self.codec.pending_marks == 0:
            self._playout_done.set()

    # -- barge-in -----------------------------------------------------------------------------------

    async def _barge_in(self) -> None:
        pending = self._pending_lines()
        # A clear drops everything buffered, so one line that must be heard in full protects them all (the
        # floor only decides a barge-in when none is; this re-checks what is playing now).
        if not pending or self._hanging_up or not all(line.interruptible for line in pending):
            return
        line = pending[0]  # the one playing now
        self.barge_ins += 1
        await self.transport.send(self.codec.clear())
        self.tape.cleared()
        for later in pending[1:]:
            later.interrupted = True
            self._amend_line(later, heard="", interrupted=True)
        line.interrupted = True
        # Drop what is still queued to say; lines that must be heard (read-back, goodbye) stay.
        kept: list[Line] = []
        while not self._lines.empty():
            queued = self._lines.get_nowait()
            if queued.interruptible:
                self._amend_line(queued, heard="", interrupted=True)
            else:
                kept.append(queued)
        for queued in kept:
            self._lines.put_nowait(queued)
        if not kept and self._speaking is None:
            self._lines_drained.set()
        if self._speak_task is not None and self._speaking in pending:
            self._speak_task.cancel()
        heard = line.heard_text()
        self._amend_line(line, heard=heard, interrupted=True)
        log_event(log, "call.barge_in", heard_words=len(heard.split()))
        await self._inputs.put(AgentInterrupted(heard=heard))

    def _pending_lines(self) -> list[Line]:
        """Lines being synthesized or with audio still buffered at Twilio, oldest (the one playing) first."""
        if self._speaking is None and not self.codec.playing:
            return []
        return [line for line in self._sent_lines if not line.interrupted and not line.fully_heard]

    def _amend_line(self, line: Line, **values: Any) -> None:
        entry = self._transcript_entry.get(line.id)
        if entry is not None:
            self.recorder.amend(entry, **values)

    # -- brain: events -> driver -> actions -------------------------------------------------------

    async def _brain_loop(self) -> None:
        while True:
            item = await self._inputs.get()
            if self.ended.is_set():
                return
            self._brain_busy = True
            try:
                await self._drive(item)
            finally:
                self._brain_busy = self._inputs.qsize() > 0
            if self.driver.finished and not self._hanging_up:
                await self._hang_up("conversation finished")

    async def _drive(self, event: Event) -> None:
        async for action in self.driver.handle(event):
            if isinstance(action, Say):
                self._queue_line(action)
            elif isinstance(action, SendSms):
                await self._send_sms(action)
            elif isinstance(action, Transfer):
                await self._transfer(action)
            elif isinstance(action, HangUp):
                await self._hang_up(action.reason or "done")
            elif isinstance(action, EndOfTurn):
                self.floor.feed(self.now(), AgentAsked(action.expect))
            self._record_outcome()
        self._record_outcome()

    def _queue_line(self, say: Say) -> None:
        if not say.text.strip():
            return
        if self._breakdown is not None and self._breakdown.said_at is None:
            self._breakdown.said_at = self.now()
            self._breakdown.tool_s = getattr(self.driver, "tool_seconds", 0.0) - self._breakdown.tool_seconds_before
        line = self.playback.new_line(say.text, say.interruptible)
        self._transcript_entry[line.id] = self.recorder.line(
            "agent", say.text, self.now(), interruptible=say.interruptible
        )
        self._lines_drained.clear()
        self._playout_done.clear()
        self._lines.put_nowait(line)

    def _outcome_dict(self) -> dict[str, Any]:
        outcome = getattr(self.driver, "outcome", None)
        if outcome is None:
            return {}
        return outcome.as_dict() if hasattr(outcome, "as_dict") else dict(outcome)

    def _record_outcome(self) -> None:
        details = self.driver.caller_details()
        if details != self._details_seen:
            self._details_seen = details
            self.recorder.set(details=details)
        outcome = self._outcome_dict()
        if not outcome or outcome == self._outcome_seen:
            return
        self._outcome_seen = outcome
        self.recorder.set(**outcome_values(outcome))

    async def _send_sms(self, sms: SendSms) -> None:
        await enqueue_sms(self.db, self.clock, self.info, sms)

    async def _wait_for_playout(self) -> None:
        """Until every queued line has been sent and Twilio has echoed the last mark."""
        try:
            async with asyncio.timeout(self.timing.playout_timeout_s):
                await self._lines_drained.wait()
                while self.codec.pending_marks and not self.ended.is_set():
                    self._playout_done.clear()
                    await self._playout_done.wait()
        except TimeoutError:
            log_event(log, "call.playout_timeout", logging.WARNING, pending=self.codec.pending_marks)

    async def _hang_up(self, reason: str) -> None:
        if self._hanging_up:
            return
        self._hanging_up = True
        await self._wait_for_playout()
        await self._close_record(f"hangup:{reason}")
        if self.control.available:
            await self.control.hang_up(self.info.call_sid)
        await self.transport.close(1000)
        self._end(f"hangup:{reason}")

    async def _transfer(self, transfer: Transfer) -> None:
        self._hanging_up = True  # nothing may interrupt the announcement now
        await self._wait_for_playout()
        self._transfer_started = True  # Twilio may stop the stream before the REST call even returns
        ok = await self.control.transfer(
            self.info.call_sid,
            transfer.number,
            caller_id=self.info.business.main_number,
            summary=owner_summary(transfer.summary, self.info.caller),
        )
        self.recorder.set(status="transferred" if ok else "transfer-failed")
        if ok:
            self._end("transferred")
        else:
            self._hanging_up = False

    # -- speaker: lines -> audio ---------------------------------------------------------------------

    async def _speak_loop(self) -> None:
        while True:
            line = await self._lines.get()
            self._speaking = line
            self._sent_lines = [*(old for old in self._sent_lines if not (old.fully_heard or old.interrupted)), line][
                -8:
            ]
            self._speak_task = asyncio.create_task(self._speak(line))
            try:
                await self._speak_task
            except asyncio.CancelledError:
                if self.ended.is_set() or asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
            finally:
                self._speaking = None
                self._speak_task = None
                if self._lines.empty():
                    self._lines_drained.set()
                    if self.codec.pending_marks == 0:
                        self._playout_done.set()

    async def _speak(self, line: Line) -> None:
        """Synthesize and send a line sentence by sentence: the first sentence goes out as soon as it is
        rendered (ahead of other work in the speech pool), and each next one renders while the one before
        is sent and played."""
        chunk_bytes = max(160, 8 * self.timing.chunk_ms)
        sentences = line.sentences
        upcoming: asyncio.Task[bytes] | None = None
        try:
            for index, sentence in enumerate(sentences):
                synthesis_started = self.now()
                audio = await upcoming if upcoming is not None else await self._render(sentence, urgent=True)
                upcoming = None
                if index + 1 < len(sentences):
                    upcoming = asyncio.create_task(self._render(sentences[index + 1], urgent=False))
                if self._breakdown is not None and self._breakdown.tts_s is None and audio:
                    self._breakdown.tts_s = self.now() - synthesis_started
                if not audio:
                    continue
                line.total[index] = len(audio)
                for start in range(0, len(audio), chunk_bytes):
                    piece = audio[start : start + chunk_bytes]
                    tag = ChunkTag(line.id, index, start + len(piece), len(audio))
                    media, mark, _ = self.codec.send_audio(piece, tag)
                    await self.transport.send(media)
                    self.tape.sent(piece)
                    self._note_first_audio()
                    await self.transport.send(mark)
        finally:
            if upcoming is not None:
                upcoming.cancel()  # a barge-in: the rest of the line is never said
        line.sent_all = True

    async def _render(self, sentence: str, *, urgent: bool) -> bytes:
        """One sentence's audio (μ-law 8 kHz); `urgent` when the caller is waiting for it."""
        return b"".join([piece async for piece in self.speech.synthesize(sentence, urgent=urgent)])

    def _note_first_audio(self) -> None:
        if self._turn_ended_at is None:
            return
        now = self.now()
        ms = int((now - self._turn_ended_at) * 1000)
        parts = self._breakdown.parts_ms(now) if self._breakdown is not None else {}
        log_event(
            log,
            "call.turn_latency",
            ms=ms,
            decide_ms=int((self._turn_decided_at - self._turn_ended_at) * 1000),
            reply_ms=int((now - self._turn_decided_at) * 1000),
            **{f"{name}_ms": value for name, value in parts.items()},
        )
        self._turn_ended_at = None
        self._breakdown = None
        self.latencies_ms.append(ms)
        self.recorder.latency(ms)
        metrics.current().turn_latency(ms)

    # -- watcher: the floor's clock and key pauses -------------------------------------------------

    async def _watch_loop(self) -> None:
        while True:
            wait = self.timing.tick_s
            due = self.floor.deadline()
            if due is not None:  # wake for a turn ending between ticks
                wait = min(wait, max(0.005, due - self.now()))
            await asyncio.sleep(wait)
            now = self.now()
            entry = self.dtmf.poll(now)
            if entry:
                await self._keys(entry)
            self._sync_agent()
            await self._apply(self.floor.feed(now, Tick()))


def call_started(info: CallInfo) -> CallStarted:
    """The conversation's first event for a call."""
    return CallStarted(
        business=info.business.slug,
        caller=info.caller,
        call_id=info.call_sid,
        channel=info.channel,  # type: ignore[arg-type]
        forwarded_from=info.forwarded_from,
        is_owner=info.is_owner,
        staff=info.staff,
        known_customer=info.known_customer,
    )


async def enqueue_sms(db: Database, clock: Clock, info: CallInfo, sms: SendSms) -> None:
    """A text the conversation asked for, as a job (sent by the worker; at most once per booking and kind)."""
    payload = {
        "business": info.business.slug,
        "to": sms.to,
        "body": sms.body,
        "kind": sms.kind,
        "booking_uid": sms.booking_uid,
        "call_sid": info.call_sid,
    }
    dedupe = f"sms:{info.call_sid}:{sms.kind}:{sms.booking_uid}" if sms.booking_uid else None
    try:
        async with db.session() as session:
            await jobs.enqueue(
                session,
                "sms",
                payload,
                run_at=clock.now(),
                business=info.business.slug,
                dedupe_key=dedupe,
                now=clock.now(),
            )
    except Exception:
        log.exception("call.sms_enqueue_failed")


def outcome_values(outcome: dict[str, Any]) -> dict[str, Any]:
    """The call record's columns for a conversation's outcome."""
    booking = outcome.get("booking") or {}
    values: dict[str, Any] = {"outcome": outcome.get("action")}
    if booking.get("uid"):
        values["booking_uid"] = booking["uid"]
    if outcome.get("message"):
        values["message_for_owner"] = outcome["message"]
    return values


TIMING_SERVICE = "voice.timing"


def timing_from(services: dict[str, Any]) -> CallTiming:
    """The call timing a deployment (or a test) put in `runtime.services`, else the defaults."""
    timing = services.get(TIMING_SERVICE)
    return timing if isinstance(timing, CallTiming) else CallTiming()
