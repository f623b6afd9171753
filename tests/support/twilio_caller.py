"""Plays Twilio's side of a phone call against our app: the signed voice webhook, the TwiML, the media
websocket (connected, start with the custom parameters, 20 ms μ-law frames, dtmf, stop) and playback.

Playback is simulated the way Twilio does it: outbound `media` is buffered and played in order at real
time (times `speed`); a `mark` is echoed when the audio before it has played; a `clear` drops the
buffered audio and echoes every pending mark at once.

    sim = TwilioCallerSim(server.url, public_url=settings.public_url, auth_token=TOKEN)
    placed = await sim.place_call(from_="+15035550123", to="+15035550100")
    async with sim.connect(placed) as call:
        await call.agent_finished_turn()
        await call.say(caller_says("My kitchen faucet is leaking."))
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import websockets

from silentpartner.voice.audio import FRAME_BYTES, silence_ulaw, split_frames, ulaw_rms
from tests.support.twilio_signing import TEST_ACCOUNT_SID, signed_headers

PAUSE_MS = 100  # frames this late on the stream clock follow a pause in sending, not a slow loop


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class PlacedCall:
    call_sid: str
    status_code: int
    twiml: str
    stream_url: str | None = None  # the wss URL as written in the TwiML
    parameters: dict[str, str] = field(default_factory=dict)
    connect_action: str | None = None
    status_callback: str | None = None

    @property
    def says(self) -> list[str]:
        if self.status_code != 200:
            return []
        return [el.text or "" for el in ET.fromstring(self.twiml).iter("Say")]


@dataclass
class DialedNumber:
    """A `<Dial><Number url=...>` the way Twilio reads it out of a TwiML document."""

    number: str
    caller_id: str | None
    action: str | None  # the Dial's action URL, fetched when the dialled leg ends
    whisper_url: str | None  # the Number's url, fetched when the dialled party answers
    timeout: str | None
    answer_on_bridge: str | None

    @classmethod
    def from_twiml(cls, document: str) -> DialedNumber:
        dial = ET.fromstring(document).find("Dial")
        assert dial is not None, f"no <Dial> in {document}"
        number = dial.find("Number")
        assert number is not None, f"no <Number> in {document}"
        return cls(
            number=(number.text or "").strip(),
            caller_id=dial.get("callerId"),
            action=dial.get("action"),
            whisper_url=number.get("url"),
            timeout=dial.get("timeout"),
            answer_on_bridge=dial.get("answerOnBridge"),
        )


class TwilioCallerSim:
    def __init__(
        self,
        app_url: str,
        *,
        public_url: str,
        auth_token: str | None,
        account_sid: str = TEST_ACCOUNT_SID,
        speed: float = 1.0,
    ) -> None:
        self.app_url = app_url.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.speed = speed

    def _local(self, public: str) -> str:
        """Twilio reaches `public_url`; on loopback that is our live server (as a proxy would map it)."""
        for scheme_public, scheme_local in (("https://", "http://"), ("wss://", "ws://")):
            base = self.public_url.replace("https://", scheme_public).replace("http://", scheme_public)
            if public.startswith(base):
                local = self.app_url.replace("http://", scheme_local)
                return local + public[len(base) :]
        return public

    async def post(self, path: str, params: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        url = self.public_url + path
        headers = (
            signed_headers(self.auth_token, url, params)
            if self.auth_token
            else {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with httpx.AsyncClient(timeout=15) as client:
            return await client.post(self.app_url + path, data=params, headers=headers)

    async def post_url(self, url: str, params: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        """POST to a full public URL taken from our TwiML (query string and all), signed over that URL."""
        headers = (
            signed_headers(self.auth_token, url, params)
            if self.auth_token
            else {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with httpx.AsyncClient(timeout=15) as client:
            return await client.post(self._local(url), data=params, headers=headers)

    def dialled_leg(self, parent_sid: str, dial: DialedNumber, child_sid: str) -> dict[str, str]:
        """What Twilio sends about the leg it dialled (the `<Number url>` request and the whisper's Gather)."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": child_sid,
            "CallStatus": "in-progress",
            "Direction": "outbound-dial",
            "From": dial.caller_id or "",
            "To": dial.number,
            "ParentCallSid": parent_sid,
        }

    async def dial_answered(self, parent_sid: str, dial: DialedNumber, child_sid: str) -> httpx.Response:
        """The dialled party picked up: Twilio fetches the `<Number url>` and plays it to them."""
        assert dial.whisper_url, "the <Number> has no url"
        return await self.post_url(dial.whisper_url, self.dialled_leg(parent_sid, dial, child_sid))

    async def dial_ended(
        self, placed: PlacedCall, caller: str, to: str, dial: DialedNumber, *, status: str, bridged: bool, seconds: int
    ) -> httpx.Response:
        """The dialled leg is over: Twilio fetches the Dial's action URL about the caller's (parent) call."""
        assert dial.action, "the <Dial> has no action"
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": placed.call_sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "From": caller,
            "To": to,
            "DialCallSid": new_sid("CA"),
            "DialCallStatus": status,
            "DialCallDuration": str(seconds),
            "DialBridged": "true" if bridged else "false",
        }
        return await self.post_url(dial.action, params)

    async def place_call(
        self,
        *,
        from_: str,
        to: str,
        forwarded_from: str | None = None,
        call_sid: str | None = None,
        signature: str | None = None,
    ) -> PlacedCall:
        call_sid = call_sid or new_sid("CA")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": "ringing",
            "Called": to,
            "Caller": from_,
            "Direction": "inbound",
            "From": from_,
            "To": to,
            "FromCountry": "US",
            "ToCountry": "US",
        }
        if forwarded_from:
            params["ForwardedFrom"] = forwarded_from
        response = await self.post("/twilio/voice", params, signature=signature)
        placed = PlacedCall(call_sid=call_sid, status_code=response.status_code, twiml=response.text)
        if response.status_code == 200:
            root = ET.fromstring(response.text)
            connect = root.find("Connect")
            stream = connect.find("Stream") if connect is not None else None
            if connect is not None and stream is not None:
                placed.connect_action = connect.get("action")
                placed.stream_url = stream.get("url")
                placed.status_callback = stream.get("statusCallback")
                placed.parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
        return placed

    async def status_callback(self, call_sid: str, status: str, duration: int) -> httpx.Response:
        return await self.post(
            "/twilio/status",
            {
                "AccountSid": self.account_sid,
                "CallSid": call_sid,
                "CallStatus": status,
                "CallDuration": str(duration),
                "ApiVersion": "2010-04-01",
            },
        )

    async def stream_status(self, call_sid: str, stream_sid: str, event: str) -> httpx.Response:
        return await self.post(
            "/twilio/stream-status",
            {
                "AccountSid": self.account_sid,
                "CallSid": call_sid,
                "StreamSid": stream_sid,
                "StreamEvent": event,
                "Timestamp": "2026-11-24T18:05:00Z",
            },
        )

    @asynccontextmanager
    async def connect(
        self, placed: PlacedCall, *, parameters: dict[str, str] | None = None, send_start: bool = True
    ) -> AsyncIterator[MediaSession]:
        assert placed.stream_url, f"no <Stream> in {placed.twiml}"
        assert "?" not in placed.stream_url, "Twilio refuses a query string on the stream URL"
        async with websockets.connect(self._local(placed.stream_url), max_size=2**20) as ws:
            session = MediaSession(ws, placed.call_sid, self.account_sid, speed=self.speed)
            await session.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            if send_start:
                await session.start(placed.parameters if parameters is None else parameters)
            session.begin()
            try:
                yield session
            finally:
                await session.shutdown()


class MediaSession:
    """One media websocket, as Twilio holds it."""

    def __init__(self, ws, call_sid: str, account_sid: str, *, speed: float) -> None:
        self.ws = ws
        self.call_sid = call_sid
        self.account_sid = account_sid
        self.stream_sid = new_sid("MZ")
        self.speed = speed
        self.sequence = 0
        self.chunk = 0
        self.agent_audio = bytearray()  # every byte the agent sent
        self.played_audio = bytearray()  # what reached the caller's ear (not flushed by a clear)
        self.clears = 0
        self.clear_times: list[float] = []  # when each `clear` arrived (monotonic)
        self.talked_over_agent = 0  # caller turns started while agent audio was playing
        self.marks_echoed: list[str] = []
        self.received: list[dict] = []
        self.first_audio_at: float | None = None
        self.media_count = 0  # media messages from the agent so far
        self.media_times: list[float] = []  # when each of them arrived (monotonic)
        self.caller_spans: list[tuple[float, float]] = []  # each `say`: first frame sent, last speech frame sent
        self._reply_after = 0  # the agent's reply to the caller's last turn is media after this count
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self.started_at: float | None = None  # when `start` was sent (monotonic): the stream clock's zero
        self._next_timestamp_ms = 0
        self._buffer: deque[tuple[str, bytes | str]] = deque()
        self._buffer_changed = asyncio.Event()
        self._activity = asyncio.Event()  # anything arrived from the agent
        self._last_agent_at = time.monotonic()
        self._tasks: list[asyncio.Task] = []

    # -- sending as Twilio -------------------------------------------------------------------------

    def _next_seq(self) -> str:
        self.sequence += 1
        return str(self.sequence)

    async def send_json(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def start(self, parameters: dict[str, str]) -> None:
        self.started_at = time.monotonic()
        await self.send_json(
            {
                "event": "start",
                "sequenceNumber": self._next_seq(),
                "start": {
                    "accountSid": self.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": parameters,
                },
                "streamSid": self.stream_sid,
            }
        )

    def _stream_time_ms(self, frame: bytes) -> int:
        """A frame's `media.timestamp`: its place on the stream's clock. Twilio's runs on whether or not the
        caller speaks (it sends a frame every 20 ms); we send frames only while speaking, so after a pause the
        clock jumps to the time elapsed (at `speed`), and while speaking it counts the frames, as Twilio's does."""
        elapsed = int((time.monotonic() - (self.started_at or time.monotonic())) * 1000 * self.speed)
        timestamp = elapsed if elapsed > self._next_timestamp_ms + PAUSE_MS else self._next_timestamp_ms
        self._next_timestamp_ms = timestamp + len(frame) // 8  # 8 μ-law bytes a millisecond
        return timestamp

    async def send_frame(self, frame: bytes) -> None:
        self.chunk += 1
        await self.send_json(
            {
                "event": "media",
                "sequenceNumber": self._next_seq(),
                "media": {
                    "track": "inbound",
                    "chunk": str(self.chunk),
                    "timestamp": str(self._stream_time_ms(frame)),
                    "payload": base64.b64encode(frame).decode("ascii"),
                },
                "streamSid": self.stream_sid,
            }
        )

    async def say(self, ulaw: bytes, *, trailing_silence_ms: int = 1000, speed: float | None = None) -> float:
        """Stream caller audio as 20 ms frames, paced at real time × speed; returns when the speech ended."""
        speed = speed or self.speed
        if any(kind == "audio" for kind, _ in self._buffer):
            self.talked_over_agent += 1
        frames = split_frames(ulaw + silence_ulaw(trailing_silence_ms), FRAME_BYTES)
        speech_frames = len(split_frames(ulaw, FRAME_BYTES))
        begin = time.monotonic()
        speech_ended_at = begin
        for index, frame in enumerate(frames):
            await self.send_frame(frame)
            if index + 1 == speech_frames:
                speech_ended_at = time.monotonic()
                self._reply_after = self.media_count
                self.caller_spans.append((begin, speech_ended_at))
            due = begin + (index + 1) * 0.02 / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the stream like a live phone line
        return speech_ended_at

    async def press(self, digits: str) -> None:
        self._reply_after = self.media_count
        for digit in digits:
            await self.send_json(
                {
                    "event": "dtmf",
                    "streamSid": self.stream_sid,
                    "sequenceNumber": self._next_seq(),
                    "dtmf": {"track": "inbound_track", "digit": digit},
                }
            )

    async def stop(self) -> None:
        await self.send_json(
            {
                "event": "stop",
                "sequenceNumber": self._next_seq(),
                "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
                "streamSid": self.stream_sid,
            }
        )

    # -- receiving and playing out ------------------------------------------------------------------

    def begin(self) -> None:
        self._tasks = [asyncio.create_task(self._receive_loop()), asyncio.create_task(self._play_loop())]

    async def _receive_loop(self) -> None:
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                self.received.append(message)
                self._last_agent_at = time.monotonic()
                self._activity.set()
                event = message.get("event")
                if event == "media":
                    audio = base64.b64decode(message["media"]["payload"])
                    self.media_count += 1
                    self.media_times.append(time.monotonic())
                    if self.first_audio_at is None:
                        self.first_audio_at = time.monotonic()
                    self.agent_audio.extend(audio)
                    self._buffer.append(("audio", audio))
                elif event == "mark":
                    self._buffer.append(("mark", message["mark"]["name"]))
                elif event == "clear":
                    self.clears += 1
                    self.clear_times.append(time.monotonic())
                    marks = [item for kind, item in self._buffer if kind == "mark"]
                    self._buffer.clear()
                    for name in marks:
                        await self._echo(str(name))
                self._buffer_changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            self._activity.set()
            self._buffer_changed.set()

    async def _echo(self, name: str) -> None:
        self.marks_echoed.append(name)
        try:
            await self.send_json(
                {
                    "event": "mark",
                    "sequenceNumber": self._next_seq(),
                    "streamSid": self.stream_sid,
                    "mark": {"name": name},
                }
            )
        except websockets.ConnectionClosed:
            pass

    async def _play_loop(self) -> None:
        while True:
            if not self._buffer:
                if self.closed.is_set():
                    return
                self._buffer_changed.clear()
                await self._buffer_changed.wait()
                continue
            kind, item = self._buffer.popleft()
            if kind == "mark":
                await self._echo(str(item))
                continue
            assert isinstance(item, bytes)
            self.played_audio.extend(item)
            await asyncio.sleep(len(item) / 8000 / self.speed)  # playing the audio out at (scaled) real time
            self._last_agent_at = time.monotonic()

    def agent_media_between(self, start: float, end: float) -> int:
        """Agent media messages that arrived between two moments (monotonic), e.g. while the caller spoke."""
        return sum(1 for at in self.media_times if start < at < end)

    @property
    def playing(self) -> bool:
        return bool(self._buffer)

    async def agent_finished_turn(self, *, quiet: float = 0.6, within: float = 30.0) -> None:
        """Wait until the agent has answered the caller's last turn (or greeted), played it all out, and then
        sent nothing new for `quiet` seconds."""
        async with asyncio.timeout(within):
            while True:
                if self.closed.is_set():
                    return
                idle = time.monotonic() - self._last_agent_at
                if self.media_count > self._reply_after and not self._buffer and idle >= quiet:
                    return
                self._activity.clear()
                try:
                    async with asyncio.timeout(max(0.05, quiet - idle)):
                        await self._activity.wait()
                except TimeoutError:
                    pass

    async def agent_starts_speaking(self, *, within: float = 15.0) -> None:
        """Until the agent's audio is playing at the caller's end."""
        async with asyncio.timeout(within):
            while not self._buffer or not any(kind == "audio" for kind, _ in self._buffer):
                self._buffer_changed.clear()
                await self._buffer_changed.wait()

    async def agent_cleared(self, *, within: float = 10.0) -> None:
        """Until the agent has sent a `clear` (a barge-in)."""
        async with asyncio.timeout(within):
            while self.clears == 0:
                self._buffer_changed.clear()
                await self._buffer_changed.wait()

    async def wait_closed(self, within: float = 30.0) -> int | None:
        async with asyncio.timeout(within):
            await self.closed.wait()
        return self.close_code

    def agent_rms(self) -> float:
        return ulaw_rms(bytes(self.agent_audio))

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
