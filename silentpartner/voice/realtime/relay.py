"""One phone call on the Realtime engine: Twilio's media stream and a Realtime session, relayed.

    Twilio media ──► input_audio_buffer.append (payload untouched)
    response.output_audio.delta ──► TwilioOut (media + mark) ──► Twilio
    response.done (completed) with function calls ──► RealtimeTools ──► function_call_output, response.create

The conversation engine stays in charge: the session's instructions and tools are the current phase's, and
follow it as tools move it; every function call goes through its guards; the caller's words (the Realtime
transcripts) reach the machine, which judges a yes to a read-back from them, in code.

- Responses: one at a time. A response.create asked for while one is active waits for its `response.done`
  (and is re-sent when the server had started one of its own in between).
- Tools run only from a `response.done` whose status is completed, for function-call items that completed: a
  cancelled response also sends "arguments done" and must not book. Before a tool runs, the transcripts of
  the caller's turns so far are awaited (briefly), so the yes the booking needs has been heard by the machine.
  A tool slower than `filler_after` gets a spoken filler (an out-of-band response); the tool has a timeout.
- Barge-in (`input_audio_buffer.speech_started`): Twilio `clear`, `response.cancel` if a response is active,
  `conversation.item.truncate` at what the marks say was heard (`playback.py`); later deltas of the truncated
  item are dropped.
- Faults: the session is rotated before OpenAI's 60-minute cap (`rotation.py`); a dropped socket hands the
  call to the offline engine (`hand_over`), which tells the caller and carries on; `error` events are logged and
  survived unless the session is gone.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from silentpartner import metrics
from silentpartner.clock import Clock
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import CallerSaid, HangUp, KeysPressed, Say, SendSms, Transfer
from silentpartner.logs import log_event
from silentpartner.settings import Settings
from silentpartner.store.db import Database
from silentpartner.voice import records
from silentpartner.voice.call import CallInfo, CallTiming, call_started, enqueue_sms
from silentpartner.voice.codec import BadMessage, Dtmf, MediaStreamCodec, Stopped
from silentpartner.voice.dtmf import DtmfGatherer
from silentpartner.voice.realtime import rotation, session_config
from silentpartner.voice.realtime.connection import RealtimeClosed, RealtimeSession, RealtimeSessions
from silentpartner.voice.realtime.playback import PlaybackLedger
from silentpartner.voice.realtime.record import RealtimeRecord
from silentpartner.voice.realtime.responses import Responses
from silentpartner.voice.realtime.tools import RealtimeTools
from silentpartner.voice.realtime.twilio_out import TwilioOut, is_base64
from silentpartner.voice.recorder import CallRecorder
from silentpartner.voice.recording import NOT_RECORDING, CallTape
from silentpartner.voice.warm_transfer import owner_summary

log = logging.getLogger(__name__)

MAX_BAD_IN_A_ROW = 10
MAX_MEDIA_CHARS = 8000 * 4 // 3 + 4  # a second of μ-law per inbound message, as the codec allows
TRANSCRIPT_WAIT_S = 2.0  # how long a tool waits for the caller's last words to be transcribed
TICK_S = 0.1
FALLBACK_LINE = "Sorry, the line dropped for a moment, but I'm still here. Where were we?"
# Errors after which the session is no use: the call moves on (rotation for an expired session, else offline).
SESSION_GONE = frozenset({"session_expired", "session_closed"})
ALREADY_ACTIVE = "conversation_already_has_active_response"

HandOver = Callable[[Say | None, CallRecorder | None], Awaitable[None]]


class RealtimeCall:
    def __init__(
        self,
        *,
        info: CallInfo,
        codec: MediaStreamCodec,
        transport: Any,
        driver: ConversationDriver,
        control: Any,
        db: Database,
        clock: Clock,
        settings: Settings,
        sessions: RealtimeSessions,
        hand_over: HandOver | None,
        timing: CallTiming | None = None,
        tape: CallTape | None = None,
        heartbeat_s: float = 5.0,
        instance_id: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.info = info
        self.codec = codec
        self.transport = transport
        self.driver = driver
        self.machine = driver.machine
        self.control = control
        self.db = db
        self.clock = clock
        self.settings = settings
        self.sessions = sessions
        self.hand_over = hand_over
        self.timing = timing or CallTiming()
        self.tape = tape or NOT_RECORDING
        self.now = monotonic
        self.model = sessions.model
        self.recorder = CallRecorder(
            db,
            info.call_sid,
            started_at=clock.now(),
            loop_start=monotonic(),
            clock=clock,
            heartbeat_s=heartbeat_s,
            instance_id=instance_id,
        )
        self.tools = RealtimeTools(driver, timeout=driver.tool_timeout + 2.0)
        self.filler_after = driver.filler_after
        driver.filler_after = driver.tool_timeout  # fillers are spoken by the model here, not by the driver
        self.ledger = PlaybackLedger()
        self.out = TwilioOut(
            transport,
            codec.stream_sid or "",
            self.ledger,
            now=monotonic,
            on_audio=self._audio_sent,
            decode=self.tape is not NOT_RECORDING,
        )
        self.record = RealtimeRecord(
            self.recorder,
            driver,
            db=db,
            clock=clock,
            info=info,
            model=self.model,
            prices=settings.realtime_prices.get(self.model),
        )
        self.dtmf = DtmfGatherer(pause_s=self.timing.dtmf_pause_s)
        self.rt: RealtimeSession | None = None
        self.ended = asyncio.Event()
        self.dropped = asyncio.Event()
        self.end_reason = ""
        self.rotations = 0
        self.barge_ins = 0
        self.bad_in_a_row = 0
        self._reader: asyncio.Task | None = None
        self._rotation: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []
        self.responses = Responses(self._send)
        self._cancelled: set[str] = set()  # responses we cancelled: their late deltas are stale
        self._tool_task: asyncio.Task | None = None
        self._heard: dict[str, float] = {}  # caller items whose transcript is pending -> when they began
        self._transcribed = asyncio.Event()
        self._transcribed.set()
        self._agent_entries: dict[str, dict[str, Any]] = {}  # item -> its transcript entry
        self._speech_stopped_at: float | None = None  # for turn latency: the caller's last word
        self._finish: HangUp | Transfer | None = None  # to do once the model's last words have played
        self._finish_after = 0  # ... after this many responses have finished
        self._responses_done = 0
        self._finish_deadline: float | None = None
        self._phase: dict[str, Any] | None = None  # the instructions and tools the session has now

    # -- running ------------------------------------------------------------------------------------

    async def run(self) -> None:
        log_event(log, "call.bridged", business=self.info.business.slug, engine="realtime", model=self.model)
        try:
            self.rt = await self.sessions.claim(self.info.call_sid)
        except Exception as exc:
            log_event(log, "realtime.open_failed", logging.WARNING, error=repr(exc))
            await self._offline_from_start()
            return
        self.recorder.start()
        metrics.current().call_started()
        self.recorder.set(status="in-progress")
        self.record.write_usage()
        greeting = [a async for a in self.driver.handle(call_started(self.info))]
        self.record.progress()
        try:
            await self.rt.send(session_config.session_update(self.info.business, self.model, self.machine))
            self._phase = session_config.phase_config(self.machine)
            lines = " ".join(a.text for a in greeting if isinstance(a, Say) and a.text.strip())
            if lines:
                await self.responses.ask(session_config.say_verbatim(lines))
        except RealtimeClosed:
            self.dropped.set()
        self._reader = asyncio.create_task(self._realtime_loop(self.rt), name="realtime.reader")
        self._tasks = [
            asyncio.create_task(self._guard(self._twilio_loop()), name="realtime.twilio"),
            asyncio.create_task(self._guard(self.out.run()), name="realtime.out"),
            asyncio.create_task(self._guard(self._tick_loop()), name="realtime.ticker"),
        ]
        ended = asyncio.create_task(self.ended.wait())
        dropped = asyncio.create_task(self.dropped.wait())
        try:
            await asyncio.wait([ended, dropped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._stop_tasks([ended, dropped])
        if self.dropped.is_set() and not self.ended.is_set():
            await self._go_offline(Say(FALLBACK_LINE))
            return
        await self._finish_call()

    async def _guard(self, loop: Awaitable[None]) -> None:
        try:
            await loop
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("realtime.task_failed")
            self._end("error")

    async def _stop_tasks(self, extra: list[asyncio.Task]) -> None:
        tasks = [*self._tasks, *extra, *(t for t in (self._reader, self._rotation) if t is not None)]
        if self._tool_task is not None and not self._tool_task.done():
            # A booking being written finishes rather than being cut mid-transaction.
            await asyncio.wait({self._tool_task}, timeout=10.0)
            tasks.append(self._tool_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.rt is not None:
            await self.rt.close()

    def _end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    # -- Twilio -> Realtime -----------------------------------------------------------------------------

    async def _twilio_loop(self) -> None:
        sid = self.codec.stream_sid
        while True:
            frame = await self.transport.receive()
            if frame is None:
                self._end("socket closed")
                return
            message = _loads(frame)
            event = message.get("event") if message is not None else None
            if event == "media" and message.get("streamSid") == sid:  # type: ignore[union-attr]
                media = message.get("media")  # type: ignore[union-attr]
                payload = media.get("payload") if isinstance(media, dict) else None
                if is_base64(payload, MAX_MEDIA_CHARS):
                    self.bad_in_a_row = 0
                    await self._caller_audio(payload, media)  # type: ignore[arg-type]
                    continue
            elif event == "mark" and message.get("streamSid") == sid:  # type: ignore[union-attr]
                mark = message.get("mark")  # type: ignore[union-attr]
                name = mark.get("name") if isinstance(mark, dict) else None
                if isinstance(name, str) and name.startswith("r"):
                    self.ledger.echoed(name, self.now())  # a flushed or unknown one is simply not pending
                    continue
            decoded = self.codec.receive(frame)
            if isinstance(decoded, BadMessage):
                self.bad_in_a_row += 1
                if decoded.first_of_burst:
                    log_event(log, "media.bad_message", logging.WARNING, reason=decoded.reason)
                if self.bad_in_a_row >= MAX_BAD_IN_A_ROW:
                    await self.transport.close(1007)
                    self._end("bad messages")
                    return
                continue
            self.bad_in_a_row = 0
            if isinstance(decoded, Dtmf):
                digits = self.dtmf.press(decoded.digit, self.now())
                if digits:
                    await self._keys(digits)
            elif isinstance(decoded, Stopped):
                self._end("stream stopped")
                return

    async def _caller_audio(self, payload: str, media: dict[str, Any]) -> None:
        if self.tape is not NOT_RECORDING:
            stamp = media.get("timestamp")
            self.tape.heard(base64.b64decode(payload), int(stamp) if isinstance(stamp, str) and stamp.isdigit() else 0)
        await self._send({"type": "input_audio_buffer.append", "audio": payload})

    async def _keys(self, digits: str) -> None:
        """Keys pressed: the machine hears them (a PIN, a choice), and so does the model, as text."""
        self.recorder.line("caller", f"[keys {digits}]", self.now(), keys=digits)
        async for _ in self.driver.handle(KeysPressed(digits)):
            pass
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"(the caller typed on the keypad: {digits})"}],
        }
        await self._send({"type": "conversation.item.create", "item": item})
        await self.responses.ask({"type": "response.create"})

    async def _send(self, event: dict[str, Any]) -> None:
        rt = self.rt
        if rt is None or self.dropped.is_set():
            return
        try:
            await rt.send(event)
        except RealtimeClosed:
            if rt is self.rt:
                self._dropped("send failed")

    def _dropped(self, why: str) -> None:
        if not self.dropped.is_set() and not self.ended.is_set():
            log_event(log, "realtime.dropped", logging.WARNING, why=why)
            self.dropped.set()
            self.responses.wake()

    # -- Realtime -> Twilio -----------------------------------------------------------------------------

    async def _realtime_loop(self, rt: RealtimeSession) -> None:
        while rt is self.rt:  # a rotated-out session's reader stops here
            try:
                event = await rt.receive()
            except RealtimeClosed as exc:
                if rt is self.rt:
                    self._dropped(str(exc))
                return
            try:
                await self._on_event(event)
            except RealtimeClosed:
                if rt is self.rt:
                    self._dropped("send failed")
                return
            except Exception:
                log.exception("realtime.event_failed", extra={"type": str(event.get("type"))[:64]})

    async def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            item, delta = event.get("item_id"), event.get("delta")
            if (
                isinstance(item, str)
                and event.get("response_id") not in self._cancelled
                and not self.ledger.is_stale(item)
                and is_base64(delta, 1 << 20)
            ):
                self.out.queue(item, delta)  # type: ignore[arg-type]
        elif kind == "input_audio_buffer.speech_started":
            self._speech_stopped_at = None
            item = event.get("item_id")
            if isinstance(item, str):
                self._heard_item(item)
            await self._barge_in()
        elif kind == "input_audio_buffer.speech_stopped":
            self._speech_stopped_at = self.now()
        elif kind == "input_audio_buffer.committed":
            item = event.get("item_id")
            if isinstance(item, str):
                self._heard_item(item)
        elif kind == "conversation.item.input_audio_transcription.completed":
            await self._caller_said(event.get("item_id"), event.get("transcript"))
        elif kind == "conversation.item.input_audio_transcription.failed":
            self._transcript_settled(event.get("item_id"))
        elif kind == "response.output_audio_transcript.done":
            self._agent_said(event.get("item_id"), event.get("transcript"))
        elif kind == "response.created":
            response = event.get("response") or {}
            self.responses.created(str(response.get("id") or "response"))
        elif kind == "response.done":
            await self._response_done(event.get("response") or {})
        elif kind == "error":
            await self._error(event.get("error") or {})

    def _audio_sent(self, item_id: str, audio: bytes | None) -> None:
        if audio is not None:
            self.tape.sent(audio)
        if self._speech_stopped_at is not None:
            ms = int((self.now() - self._speech_stopped_at) * 1000)
            self._speech_stopped_at = None
            log_event(log, "call.turn_latency", ms=ms, engine="realtime")
            self.recorder.latency(ms)
            metrics.current().turn_latency(ms)

    # -- barge-in -----------------------------------------------------------------------------------

    async def _barge_in(self) -> None:
        now = self.now()
        cut = self.ledger.barge_in(now)
        active = self.responses.active
        if cut is None and active is None:
            return
        self.barge_ins += 1
        if cut is not None:
            self.out.drop()
            await self.transport.send(self.out.clear_frame())
            self.tape.cleared()
        if active is not None:
            self._cancelled.add(active)
            await self._send({"type": "response.cancel"})
        if cut is not None:
            item, audio_end_ms = cut
            await self._send(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item,
                    "content_index": 0,
                    "audio_end_ms": audio_end_ms,
                }
            )
            entry = self._agent_entries.get(item)
            if entry is not None:
                self.recorder.amend(entry, interrupted=True, heard_ms=audio_end_ms)
            log_event(log, "call.barge_in", engine="realtime", heard_ms=audio_end_ms)

    # -- transcripts --------------------------------------------------------------------------------

    def _heard_item(self, item: str) -> None:
        if item not in self._heard:
            self._heard[item] = self.now()
            self._transcribed.clear()

    def _transcript_settled(self, item: Any) -> None:
        self._heard.pop(item, None)  # type: ignore[arg-type]
        if not self._heard:
            self._transcribed.set()

    async def _caller_said(self, item: Any, transcript: Any) -> None:
        began = self._heard.get(item, self.now()) if isinstance(item, str) else self.now()
        self._transcript_settled(item)
        text = transcript.strip()[:2000] if isinstance(transcript, str) else ""
        if not text:
            return
        self.recorder.line("caller", text, began)
        # Its transcript may come after the model's answer: keep the record in the order things were said.
        self.recorder.transcript.sort(key=lambda entry: entry["t"])
        # The machine reads the caller's own words: a yes to a read-back is judged here, in code.
        async for _ in self.driver.handle(CallerSaid(text=text)):
            pass
        self.record.progress()

    def _agent_said(self, item: Any, transcript: Any) -> None:
        text = transcript.strip()[:4000] if isinstance(transcript, str) else ""
        if not text:
            return
        entry = self.recorder.line("agent", text, self.now())
        if isinstance(item, str):
            self._agent_entries[item] = entry
            if self.ledger.is_stale(item):
                entry["interrupted"] = True

    # -- responses and tools --------------------------------------------------------------------------

    async def _response_done(self, response: dict[str, Any]) -> None:
        _, verbatim = self.responses.done()
        self._responses_done += 1
        self.record.add_usage(response.get("usage"))
        status = response.get("status")
        calls = [o for o in response.get("output") or [] if isinstance(o, dict) and o.get("type") == "function_call"]
        if calls and status == "completed":
            done = [c for c in calls if c.get("status") == "completed"]
            self.responses.held = True
            self._tool_task = asyncio.create_task(self._run_tools(done), name="realtime.tools")
        elif calls:
            log_event(log, "realtime.calls_discarded", status=status, calls=len(calls))
        elif status == "completed" and not verbatim:
            # The model spoke its own words after any read-back: a yes now answers them, not the read-back (as
            # with the chat brain), so booking needs a new read-back.
            memory = self.machine.memory
            memory.readback_for, memory.readback_yes = None, False
        await self.responses.flush()

    async def _run_tools(self, calls: list[dict[str, Any]]) -> None:
        try:
            await self._run_tools_now(calls)
        except RealtimeClosed:
            self._dropped("send failed")
        except Exception:
            log.exception("realtime.tools_failed")
        finally:
            self._tool_task = None
            if not self.dropped.is_set() and not self.ended.is_set():
                await self.responses.release({"type": "response.create"})
            else:
                self.responses.held = False

    async def _run_tools_now(self, calls: list[dict[str, Any]]) -> None:
        try:  # the caller's last words first: the machine judges their yes before anything is booked
            async with asyncio.timeout(TRANSCRIPT_WAIT_S):
                await self._transcribed.wait()
        except TimeoutError:
            log_event(log, "realtime.transcript_late", pending=len(self._heard))
        work = asyncio.ensure_future(self._call_tools(calls))
        done, _ = await asyncio.wait({work}, timeout=self.filler_after)
        if not done:
            await self.responses.filler(session_config.filler(self.machine.line("filler")))
        self.responses.say_next = await work
        phase = session_config.phase_config(self.machine)
        if phase != self._phase:
            self._phase = phase
            await self._send({"type": "session.update", "session": {"type": "realtime", **phase}})
        self.record.progress()
        # The answer waits for a filler still playing (one response at a time).
        try:
            async with asyncio.timeout(self.timing.playout_timeout_s):
                await self.responses.until_idle(self.dropped)
        except TimeoutError:
            log_event(log, "realtime.response_stuck", logging.WARNING)
            self.responses.reset()
        if self._finish is not None:
            self._finish_after = self._responses_done + 1  # after the answer asked for next

    async def _call_tools(self, calls: list[dict[str, Any]]) -> bool:
        """Run the calls in order; True when an output carries lines the model must say word for word."""
        say = False
        for call in calls:
            name, call_id = str(call.get("name", ""))[:64], str(call.get("call_id", ""))[:128]
            outcome = await self.tools.run(name, str(call.get("arguments") or ""))
            log_event(log, "realtime.tool", tool=name, refused="refused" in outcome.output)
            say = say or "say" in outcome.output
            await self._send(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", "call_id": call_id, "output": outcome.output_json()},
                }
            )
            for action in outcome.actions:
                if isinstance(action, SendSms):
                    await enqueue_sms(self.db, self.clock, self.info, action)
                elif isinstance(action, HangUp | Transfer) and self._finish is None:
                    # After the model has said its last words (the response this output asks for) and they played.
                    self._finish, self._finish_after = action, 1 << 30
        return say

    async def _error(self, error: dict[str, Any]) -> None:
        code = str(error.get("code") or "")[:64]
        log_event(
            log,
            "realtime.error",
            logging.WARNING,
            code=code,
            kind=str(error.get("type"))[:64],
            message=str(error.get("message"))[:200],
        )
        if code == ALREADY_ACTIVE:
            self.responses.refused()  # the server started one of its own: ours comes after
        elif code == "session_expired":
            # Not from inside this reader, which the rotation replaces.
            self._rotation = asyncio.create_task(self._rotate(), name="realtime.rotate")
        elif code in SESSION_GONE:
            self._dropped(code)

    # -- the ticker: keys, rotation, the call's end -------------------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = self.now()
            digits = self.dtmf.poll(now)
            if digits:
                await self._keys(digits)
            rt = self.rt
            quiet = self.responses.idle and not self.responses.held
            if rt is not None and rotation.rotation_due(
                rt.opened_at, now, self.settings.realtime_rotate_after_seconds, quiet=quiet
            ):
                await self._rotate()
            if self._finish is not None and self._responses_done >= self._finish_after:
                await self._finish_when_played(now)

    async def _rotate(self) -> None:
        old = self.rt
        try:
            new = await self.sessions.open()
            summary = rotation.summarize(self.recorder.transcript)
            await new.send(session_config.session_update(self.info.business, self.model, self.machine, summary=summary))
        except Exception as exc:
            log_event(log, "realtime.rotate_failed", logging.WARNING, error=repr(exc))
            if old is not None:
                old.opened_at = self.now()  # try again later rather than every tick
            return
        self.rt = new
        self.responses.reset()
        self._phase = session_config.phase_config(self.machine)
        old_reader = self._reader
        self._reader = asyncio.create_task(self._realtime_loop(new), name="realtime.reader")
        if old_reader is not None and old_reader is not asyncio.current_task():
            old_reader.cancel()
        self.rotations += 1
        log_event(log, "realtime.rotated", rotations=self.rotations)
        if old is not None:
            await old.close()

    async def _finish_when_played(self, now: float) -> None:
        if self._finish_deadline is None:
            self._finish_deadline = now + self.timing.playout_timeout_s
        if (self.ledger.playing or not self.out.idle or not self.responses.idle) and now < self._finish_deadline:
            return
        action, self._finish = self._finish, None
        if isinstance(action, Transfer):
            ok = await self.control.transfer(
                self.info.call_sid,
                action.number,
                caller_id=self.info.business.main_number,
                summary=owner_summary(action.summary, self.info.caller),
            )
            self.recorder.set(status="transferred" if ok else "transfer-failed")
            if ok:
                self._end("transferred")
            return
        reason = f"hangup:{(action.reason if action else '') or 'done'}"
        await self.record.close(reason)
        if self.control.available:
            await self.control.hang_up(self.info.call_sid)
        await self.transport.close(1000)
        self._end(reason)

    async def _finish_call(self) -> None:
        await self.record.finish(self.end_reason or "hangup", rotations=self.rotations, barge_ins=self.barge_ins)

    async def _offline_from_start(self) -> None:
        """No session could be opened: the whole call on the offline engine, greeting and all."""
        self.machine.external_brain = False
        if self.hand_over is None:
            await self.transport.close(1011)
            await records.update_call(self.db, self.info.call_sid, status="speech-unavailable")
            await records.settle(self.db, self.info.call_sid, now=self.clock.now(), reason="speech unavailable")
            return
        await self.hand_over(None, None)

    async def _go_offline(self, opening: Say | None) -> None:
        """The rest of the call on the offline engine: the same socket, conversation and record."""
        log_event(log, "realtime.fallback", has_opening=opening is not None)
        self.record.write_usage()
        self.recorder.set(speech_engine="realtime+offline" if self.record.usage.audio_out else "offline")
        if self.ledger.playing and self.codec.stream_sid:
            await self.transport.send(self.out.clear_frame())  # what the model was saying is cut off
            self.codec.adopt_flushed_marks(list(self.ledger.marks))
        self.machine.external_brain = False  # the rules brain carries on from the machine's state
        if self.hand_over is None:
            self._end("speech unavailable")
            await self._finish_call()
            await self.transport.close(1011)
            return
        try:
            await self.hand_over(opening, self.recorder)
        except Exception:
            log.exception("realtime.fallback_failed")
            self._end("speech unavailable")
            await self._finish_call()
            await self.transport.close(1011)


def _loads(frame: str | bytes) -> dict[str, Any] | None:
    if not isinstance(frame, str) or len(frame) > 16 * 1024:
        return None
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None
