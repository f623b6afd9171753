"""A local OpenAI Realtime server speaking the GA event shapes over a real websocket, for the Realtime engine.

Point the app at it with `OPENAI_REALTIME_URL=server.url` (`ws://127.0.0.1:PORT/v1`): the SDK connects to
`/v1/realtime?model=...`. Like the real one it refuses a missing key (401) and the retired beta interface
(`OpenAI-Beta` header: `beta_api_shape_disabled`), answers `session.update` only with `type: realtime`, allows
one response at a time (`conversation_already_has_active_response`), errors on `response.cancel` with nothing
active and on a truncate past the audio an item has, cancels the response in progress when the caller starts
speaking (`interrupt_response`), and reports usage in `response.done` (1 audio token per 100 ms in, per 50 ms
out).

The model is a script: `brain(session)` is a coroutine run per session, using the session's helpers: wait
for the client to ask for a response (`requested()`), hear a caller turn (`caller_turn()`: a simple energy
VAD over the μ-law frames; the words are the next of `transcripts`, since a test caller's audio is a tone),
`speak(text)` (audio deltas of 100-200 ms, transcript, usage) and `call(name, args)` (a function call; with
`cancel=True` the response is cancelled after its "arguments done", as when the caller talks over it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

API_KEY = "sk-test"
SILENCE = 0xFF  # μ-law zero
FRAME_MS = 20
END_SILENCE_MS = 300  # the fake VAD's pause that ends a turn

Brain = Callable[["FakeSession"], Awaitable[None]]
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def speech_ulaw(ms: int) -> bytes:
    """A loud tone the fake VAD hears as speech (a test caller's voice)."""
    return bytes([0x10, 0x90] * (ms * 4))


def tone_ulaw(ms: int) -> bytes:
    """The model's audio: not silence, so the caller's side can tell it played."""
    return bytes([0x20, 0xA0] * (ms * 4))


@dataclass
class Item:
    id: str
    kind: str  # message | function_call
    role: str = "assistant"
    audio_ms: int = 0
    truncated_at: int | None = None


@dataclass
class FakeSession:
    server: FakeRealtime
    ws: ServerConnection
    model: str
    id: str = field(default_factory=lambda: new_id("sess"))
    config: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)  # every session.update's session
    received: list[dict[str, Any]] = field(default_factory=list)  # every client event but audio appends
    audio_in_ms: int = 0
    items: dict[str, Item] = field(default_factory=dict)
    truncates: list[dict[str, Any]] = field(default_factory=list)
    cancels: int = 0
    errors_sent: list[str] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)  # function_call_output items, parsed
    usage_totals: dict[str, int] = field(
        default_factory=lambda: {"audio_in": 0, "text_in": 0, "audio_out": 0, "text_out": 0}
    )
    active: str | None = None
    gone: threading.Event = field(default_factory=threading.Event)  # the socket closed, either side
    _cancel: asyncio.Event = field(default_factory=asyncio.Event)
    _requests: asyncio.Queue = field(default_factory=asyncio.Queue)
    _turns: asyncio.Queue = field(default_factory=asyncio.Queue)
    _outputs: asyncio.Queue = field(default_factory=asyncio.Queue)
    _speaking_ms = 0
    _silent_ms = 0
    _turn_item: str | None = None
    _pending_in_ms = 0  # caller audio since the last response: billed as input on the next one

    # -- sending --------------------------------------------------------------------------------------
    async def send(self, event: dict[str, Any]) -> None:
        event.setdefault("event_id", new_id("event"))
        await self.ws.send(json.dumps(event))

    async def error(self, code: str, message: str, etype: str = "invalid_request_error") -> None:
        self.errors_sent.append(code)
        await self.send({"type": "error", "error": {"type": etype, "code": code, "message": message, "param": None}})

    # -- the script's helpers -----------------------------------------------------------------------
    async def requested(self, within: float = 10.0) -> dict[str, Any]:
        """The next response.create the client sent (its `response` parameters)."""
        return await asyncio.wait_for(self._requests.get(), within)

    async def caller_turn(self, within: float = 20.0) -> str:
        return await asyncio.wait_for(self._turns.get(), within)

    async def output(self, within: float = 10.0) -> dict[str, Any]:
        """The next function_call_output the client sent, parsed."""
        return await asyncio.wait_for(self._outputs.get(), within)

    def instructions(self) -> str:
        return str(self.config.get("instructions", ""))

    def tool_names(self) -> list[str]:
        return [tool["name"] for tool in self.config.get("tools", [])]

    async def speak(
        self, text: str, *, ms: int | None = None, delta_ms: int = 150, pace: float = 0.01, overrun: int = 0
    ) -> str:
        """One response saying `text`: audio deltas of `delta_ms`, `pace` seconds apart. Returns its status.
        `overrun`: deltas already in flight when the response is cancelled, which still arrive after it."""
        ms = ms or max(400, 60 * len(text.split()))
        response_id, item = await self._begin_response("message")
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": {"id": item.id, "type": "message", "role": "assistant", "status": "in_progress", "content": []},
            }
        )
        sent = 0
        late = overrun
        while sent < ms and (not self._cancel.is_set() or late > 0):
            if self._cancel.is_set():
                late -= 1
            chunk = min(delta_ms, ms - sent)
            await self.send(
                {
                    "type": "response.output_audio.delta",
                    "response_id": response_id,
                    "item_id": item.id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": base64.b64encode(tone_ulaw(chunk)).decode(),
                }
            )
            sent += chunk
            item.audio_ms = sent
            await asyncio.sleep(pace)
        if self._cancel.is_set():
            return await self._end_response(response_id, [item], "cancelled", out_ms=sent, out_text=0)
        await self.send(
            {
                "type": "response.output_audio_transcript.done",
                "response_id": response_id,
                "item_id": item.id,
                "output_index": 0,
                "content_index": 0,
                "transcript": text,
            }
        )
        return await self._end_response(response_id, [item], "completed", out_ms=sent, out_text=len(text.split()))

    async def call(self, name: str, arguments: dict[str, Any], *, cancel: bool = False) -> str:
        """One response calling a function. With `cancel`, the arguments complete and then the response is
        cancelled (turn_detected), as the API does when the caller talks over it."""
        response_id, item = await self._begin_response("function_call")
        call_id = new_id("call")
        args = json.dumps(arguments)
        base = {"response_id": response_id, "item_id": item.id, "output_index": 0, "call_id": call_id}
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": {
                    "id": item.id,
                    "type": "function_call",
                    "status": "in_progress",
                    "call_id": call_id,
                    "name": name,
                    "arguments": "",
                },
            }
        )
        await self.send({"type": "response.function_call_arguments.delta", "delta": args, **base})
        await self.send({"type": "response.function_call_arguments.done", "name": name, "arguments": args, **base})
        status = "incomplete" if cancel else "completed"
        done_item = {
            "id": item.id,
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": name,
            "arguments": args,
        }
        await self.send(
            {"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": done_item}
        )
        item_dict = {item.id: done_item}
        return await self._end_response(
            response_id,
            [item],
            "cancelled" if cancel else "completed",
            out_ms=0,
            out_text=len(args) // 4,
            output_items=item_dict,
        )

    async def drop(self) -> None:
        """The socket goes away mid-call, with no closing handshake."""
        self.ws.transport.abort()

    # -- responses ----------------------------------------------------------------------------------
    async def _begin_response(self, kind: str) -> tuple[str, Item]:
        if self.active is not None:
            raise AssertionError("the fake model started a response while one was active")
        response_id = new_id("resp")
        self.active = response_id
        self._cancel.clear()
        item = Item(new_id("item"), kind)
        self.items[item.id] = item
        await self.send(
            {
                "type": "response.created",
                "response": {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []},
            }
        )
        return response_id, item

    async def _end_response(
        self,
        response_id: str,
        items: list[Item],
        status: str,
        *,
        out_ms: int,
        out_text: int,
        output_items: dict[str, dict[str, Any]] | None = None,
    ) -> str:
        audio_in = self._pending_in_ms // 100
        self._pending_in_ms = 0
        text_in = max(1, len(self.instructions().split()))
        audio_out = out_ms // 50
        usage = {
            "total_tokens": audio_in + text_in + audio_out + out_text,
            "input_tokens": audio_in + text_in,
            "output_tokens": audio_out + out_text,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0},
            },
            "output_token_details": {"text_tokens": out_text, "audio_tokens": audio_out},
        }
        for key, value in (
            ("audio_in", audio_in),
            ("text_in", text_in),
            ("audio_out", audio_out),
            ("text_out", out_text),
        ):
            self.usage_totals[key] += value
        output = []
        for item in items:
            if output_items and item.id in output_items:
                output.append(output_items[item.id])
            else:
                output.append(
                    {
                        "id": item.id,
                        "type": "message",
                        "role": "assistant",
                        "status": "completed" if status == "completed" else "incomplete",
                    }
                )
        details = None if status == "completed" else {"type": status, "reason": "turn_detected"}
        self.active = None
        await self.send(
            {
                "type": "response.done",
                "response": {
                    "id": response_id,
                    "object": "realtime.response",
                    "status": status,
                    "status_details": details,
                    "output": output,
                    "usage": usage,
                },
            }
        )
        return status

    # -- client events ------------------------------------------------------------------------------
    async def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind != "input_audio_buffer.append":
            self.received.append(event)
        if kind == "session.update":
            session = event.get("session") or {}
            if session.get("type") != "realtime":
                await self.error("missing_required_parameter", "Missing required parameter: 'session.type'.")
                return
            self.updates.append(session)
            self.config.update({k: v for k, v in session.items() if k != "type"})
            await self.send({"type": "session.updated", "session": {"id": self.id, **self.config}})
        elif kind == "input_audio_buffer.append":
            try:
                audio = base64.b64decode(event.get("audio", ""), validate=True)
            except (binascii.Error, TypeError, ValueError):
                await self.error("invalid_value", "Invalid 'audio'. Expected base64-encoded audio.")
                return
            await self._audio(audio)
        elif kind == "response.create":
            if self.active is not None:
                await self.error(
                    "conversation_already_has_active_response",
                    "Conversation already has an active response in progress",
                )
                return
            await self._requests.put(event.get("response") or {})
        elif kind == "response.cancel":
            if self.active is None:
                await self.error("response_cancel_not_active", "Cancellation failed: no active response found")
                return
            self.cancels += 1
            self._cancel.set()
        elif kind == "conversation.item.truncate":
            item = self.items.get(event.get("item_id", ""))
            end = event.get("audio_end_ms")
            self.truncates.append(event)
            if item is None:
                await self.error("item_not_found", "Item not found")
            elif not isinstance(end, int) or end < 0 or end > item.audio_ms:
                await self.error("invalid_value", f"audio_end_ms {end} is past the item's {item.audio_ms} ms")
            else:
                item.truncated_at = end
                await self.send(
                    {"type": "conversation.item.truncated", "item_id": item.id, "content_index": 0, "audio_end_ms": end}
                )
        elif kind == "conversation.item.create":
            item = event.get("item") or {}
            if item.get("type") == "function_call_output":
                parsed = json.loads(item.get("output") or "{}")
                self.outputs.append(parsed)
                await self._outputs.put(parsed)
            await self.send({"type": "conversation.item.added", "item": {"id": new_id("item"), **item}})

    async def _audio(self, audio: bytes) -> None:
        frames = max(1, len(audio) // 160)
        loud = any(b not in (SILENCE, 0x7F) for b in audio)
        ms = frames * FRAME_MS
        self.audio_in_ms += ms
        self._pending_in_ms += ms
        if loud:
            self._silent_ms = 0
            self._speaking_ms += ms
            if self._turn_item is None and self._speaking_ms >= 60:
                self._turn_item = new_id("item")
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": self.audio_in_ms,
                        "item_id": self._turn_item,
                    }
                )
                if self.active is not None:  # interrupt_response: the server cancels what the model was saying
                    self._cancel.set()
        elif self._turn_item is not None:
            self._silent_ms += ms
            if self._silent_ms >= END_SILENCE_MS:
                item, self._turn_item = self._turn_item, None
                self._speaking_ms = self._silent_ms = 0
                await self.send(
                    {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self.audio_in_ms, "item_id": item}
                )
                await self.send({"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": None})
                words = self.server.transcripts.pop(0) if self.server.transcripts else ""
                await self.send(
                    {
                        "type": "conversation.item.input_audio_transcription.completed",
                        "item_id": item,
                        "content_index": 0,
                        "transcript": words,
                    }
                )
                await self._turns.put(words)
        else:
            self._speaking_ms = 0


class FakeRealtime:
    """`with FakeRealtime(brain, transcripts=[...]) as server: Settings(openai_realtime_url=server.url, ...)`"""

    def __init__(
        self,
        brain: Brain,
        *,
        transcripts: list[str] | None = None,
        connect_delay: float = 0.0,
        model: str | None = None,
    ) -> None:
        self.brain = brain
        self.transcripts = list(transcripts or [])
        self.connect_delay = connect_delay
        self.model = model
        self.sessions: list[FakeSession] = []
        self.refused: list[str] = []
        self.brain_errors: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fake-realtime", daemon=True)
        self.port = 0
        self.session_opened = threading.Event()
        self._opened = threading.Condition()

    def wait_sessions(self, count: int, within: float = 10.0) -> bool:
        """Blocking (call it in a thread): until `count` sessions have been opened."""
        with self._opened:
            return self._opened.wait_for(lambda: len(self.sessions) >= count, within)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeRealtime:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Realtime server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._session, "127.0.0.1", 0, process_request=self._check, max_size=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    async def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.connect_delay:
            await asyncio.sleep(self.connect_delay)  # a far-away API: the handshake takes this long
        parts = urlsplit(request.path)
        model = parse_qs(parts.query).get("model", [""])[0]
        reason = None
        if parts.path != "/v1/realtime":
            reason = "not found"
        elif request.headers.get("Authorization") != f"Bearer {API_KEY}":
            reason = "bad key"
        elif not model or (self.model and model != self.model):
            reason = f"bad model {model!r}"
        if reason is not None:
            self.refused.append(reason)
            body = json.dumps({"error": {"message": reason, "type": "invalid_request_error"}}).encode()
            return Response(
                401 if reason == "bad key" else 400, "Refused", Headers({"Content-Type": "application/json"}), body
            )
        return None

    async def _session(self, ws: ServerConnection) -> None:
        model = parse_qs(urlsplit(ws.request.path).query)["model"][0]
        session = FakeSession(self, ws, model)
        with self._opened:
            self.sessions.append(session)
            self._opened.notify_all()
        if "OpenAI-Beta" in ws.request.headers:
            await session.error(
                "beta_api_shape_disabled",
                "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API",
            )
            await ws.close(1008)
            return
        await session.send(
            {"type": "session.created", "session": {"id": session.id, "type": "realtime", "model": model}}
        )
        self.session_opened.set()
        brain = asyncio.create_task(self._think(session))
        try:
            async for raw in ws:
                if isinstance(raw, bytes):  # the API speaks JSON in text frames
                    await session.error("invalid_value", "expected a JSON text frame")
                    continue
                await session.handle(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            session.gone.set()
            brain.cancel()
            await asyncio.gather(brain, return_exceptions=True)

    async def _think(self, session: FakeSession) -> None:
        try:
            await self.brain(session)
        except (asyncio.CancelledError, ConnectionClosed):
            pass
        except BaseException as exc:  # surfaced to the test
            self.brain_errors.append(exc)
            traceback.print_exc()  # at once: the test itself may only time out waiting for the agent
