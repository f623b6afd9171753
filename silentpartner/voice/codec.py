"""The Twilio Media Streams protocol as a sans-I/O object.

`MediaStreamCodec.receive(frame)` turns one websocket text frame from Twilio into one typed event and
never raises: anything malformed, oversized or out of place becomes `BadMessage`. The builders
(`send_audio`, `clear`) return the JSON text frames to send; they refuse before `start` (the stream
sid is not known yet).

Bad frames come in bursts (a broken client, a fuzzer), so the codec groups them: a burst ends after
`BURST_GAP_FRAMES` good frames in a row. Only a burst's first `BadMessage` says `first_of_burst`, and it
carries the size of the burst before it, so a reader logs one line per burst, not one per frame.

Playback tracking lives here because it is protocol semantics: every outbound audio chunk is followed
by a mark, Twilio echoes a mark when the audio before it has played, and after a `clear` it echoes
every pending mark at once, so those echoes mean "flushed" (`MarkFlushed`), not "played" (`MarkPlayed`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# Inbound frames are 20 ms (160 bytes, 216 base64 chars) by convention; the docs don't fix the size,
# so accept up to one second of audio per message and refuse anything larger.
MAX_MEDIA_BYTES = 8000
MAX_FRAME_CHARS = 16 * 1024
MAX_PARAMETERS = 32
MAX_PARAMETER_CHARS = 500  # Twilio: name + value of each <Parameter> stays under 500 characters
MAX_MARK_NAME = 128
BURST_GAP_FRAMES = 50  # a second of 20 ms audio without a bad frame ends a burst

_DIGITS = re.compile(r"^\d{1,12}$")
_DTMF = re.compile(r"^[0-9*#A-Da-d]$")
_SID = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]{1,62}$")


# -- inbound events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True)
class Started:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str]
    sequence: int


@dataclass(frozen=True)
class Media:
    payload: bytes  # μ-law 8 kHz, mono
    chunk: int
    timestamp_ms: int
    track: str
    sequence: int


@dataclass(frozen=True)
class Dtmf:
    digit: str
    sequence: int


@dataclass(frozen=True)
class MarkPlayed:
    """The audio up to this mark reached the caller."""

    name: str
    tag: Any


@dataclass(frozen=True)
class MarkFlushed:
    """Echo of a mark whose audio was dropped by a `clear`: the caller never heard it."""

    name: str
    tag: Any


@dataclass(frozen=True)
class Stopped:
    call_sid: str | None
    sequence: int


@dataclass(frozen=True)
class BadMessage:
    reason: str
    excerpt: str = ""
    first_of_burst: bool = True  # log this one; the rest of its burst is only counted
    previous_burst: int = 0  # how many bad frames the burst before this one had (0: none before)


InboundEvent = Connected | Started | Media | Dtmf | MarkPlayed | MarkFlushed | Stopped | BadMessage


class StreamNotStarted(RuntimeError):
    """Nothing may be sent before Twilio's `start` message names the stream."""


@dataclass
class _PendingMark:
    tag: Any
    flushed: bool = False


@dataclass
class MediaStreamCodec:
    max_frame_chars: int = MAX_FRAME_CHARS
    stream_sid: str | None = None
    call_sid: str | None = None
    stopped: bool = False
    bad_frames: int = 0  # every bad frame so far
    _pending: OrderedDict[str, _PendingMark] = field(default_factory=OrderedDict)
    _mark_counter: int = 0
    _burst: int = 0  # bad frames in the current (or last) burst
    _good_since_bad: int = BURST_GAP_FRAMES  # no burst yet

    # -- parsing ------------------------------------------------------------------------------------

    def receive(self, frame: str | bytes) -> InboundEvent:
        """Parse one websocket frame. Never raises."""
        try:
            event = self._receive(frame)
        except _Bad as bad:
            return self._bad(bad.reason, frame)
        except Exception as exc:  # a shape we did not foresee is still only a bad message
            return self._bad(f"unparseable: {type(exc).__name__}", frame)
        self._good_since_bad += 1
        return event

    def _bad(self, reason: str, frame: object) -> BadMessage:
        self.bad_frames += 1
        starts = self._good_since_bad >= BURST_GAP_FRAMES
        previous = self._burst if starts else 0
        self._burst = 1 if starts else self._burst + 1
        self._good_since_bad = 0
        return BadMessage(reason, _excerpt(frame), first_of_burst=starts, previous_burst=previous)

    def _receive(self, frame: str | bytes) -> InboundEvent:
        if isinstance(frame, bytes):
            raise _Bad("binary frame (Twilio sends JSON text)")
        if not isinstance(frame, str):
            raise _Bad("not a text frame")
        if len(frame) > self.max_frame_chars:
            raise _Bad(f"frame of {len(frame)} characters is over {self.max_frame_chars}")
        try:
            message = json.loads(frame)
        except (ValueError, RecursionError):
            raise _Bad("not JSON") from None
        if not isinstance(message, dict):
            raise _Bad("not a JSON object")
        event = message.get("event")
        if not isinstance(event, str):
            raise _Bad("no event name")
        if self.stopped:
            raise _Bad(f"{event} after stop")
        if event == "connected":
            return self._connected(message)
        if event == "start":
            return self._start(message)
        if self.stream_sid is None:
            raise _Bad(f"{event} before start")
        if message.get("streamSid") != self.stream_sid:
            raise _Bad("streamSid does not match the stream")
        if event == "media":
            return self._media(message)
        if event == "dtmf":
            return self._dtmf(message)
        if event == "mark":
            return self._mark(message)
        if event == "stop":
            return self._stop(message)
        raise _Bad(f"unknown event {event[:32]!r}")

    def _connected(self, message: dict[str, Any]) -> Connected:
        if self.stream_sid is not None:
            raise _Bad("connected after start")
        return Connected(protocol=_text(message, "protocol", 32), version=_text(message, "version", 32))

    def _start(self, message: dict[str, Any]) -> Started:
        if self.stream_sid is not None:
            raise _Bad("a second start")
        start = _object(message, "start")
        stream_sid = _sid(start, "streamSid")
        if message.get("streamSid", stream_sid) != stream_sid:
            raise _Bad("start.streamSid and streamSid differ")
        tracks = start.get("tracks", ["inbound"])
        if not isinstance(tracks, list) or not all(isinstance(t, str) and len(t) < 32 for t in tracks):
            raise _Bad("start.tracks is not a list of names")
        media_format = start.get("mediaFormat")
        if media_format is not None:
            if not isinstance(media_format, dict):
                raise _Bad("start.mediaFormat is not an object")
            encoding = media_format.get("encoding", "audio/x-mulaw")
            rate = str(media_format.get("sampleRate", "8000"))
            channels = str(media_format.get("channels", "1"))
            if (encoding, rate, channels) != ("audio/x-mulaw", "8000", "1"):
                raise _Bad("start.mediaFormat is not μ-law 8 kHz mono")
        params = start.get("customParameters", {})
        if not isinstance(params, dict) or len(params) > MAX_PARAMETERS:
            raise _Bad("start.customParameters is not a small object")
        custom: dict[str, str] = {}
        for name, value in params.items():
            if not isinstance(value, str) or len(name) + len(value) >= MAX_PARAMETER_CHARS:
                raise _Bad("a custom parameter is not a short string")
            custom[name] = value
        started = Started(
            stream_sid=stream_sid,
            call_sid=_sid(start, "callSid"),
            account_sid=_sid(start, "accountSid") if "accountSid" in start else "",
            tracks=tuple(tracks),
            custom_parameters=custom,
            sequence=_number(message, "sequenceNumber", required=False),
        )
        self.stream_sid = started.stream_sid
        self.call_sid = started.call_sid
        return started

    def _media(self, message: dict[str, Any]) -> Media:
        media = _object(message, "media")
        payload = media.get("payload")
        if not isinstance(payload, str) or not payload:
            raise _Bad("media.payload is missing")
        if len(payload) > (MAX_MEDIA_BYTES * 4) // 3 + 4:
            raise _Bad("media.payload is oversized")
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise _Bad("media.payload is not base64") from None
        track = media.get("track", "inbound")
        if track not in ("inbound", "inbound_track"):
            raise _Bad("media on a track other than inbound")
        return Media(
            payload=audio,
            chunk=_number(media, "chunk", required=False),
            timestamp_ms=_number(media, "timestamp", required=False),
            track=track,
            sequence=_number(message, "sequenceNumber", required=False),
        )

    def _dtmf(self, message: dict[str, Any]) -> Dtmf:
        dtmf = _object(message, "dtmf")
        digit = dtmf.get("digit")
        if not isinstance(digit, str) or not _DTMF.match(digit):
            raise _Bad("dtmf.digit is not a key")
        return Dtmf(digit=digit.upper(), sequence=_number(message, "sequenceNumber", required=False))

    def _mark(self, message: dict[str, Any]) -> MarkPlayed | MarkFlushed:
        name = _text(_object(message, "mark"), "name", MAX_MARK_NAME)
        pending = self._pending.pop(name, None)
        if pending is None:
            raise _Bad("echo of a mark we never sent")
        if pending.flushed:
            return MarkFlushed(name, pending.tag)
        return MarkPlayed(name, pending.tag)

    def _stop(self, message: dict[str, Any]) -> Stopped:
        stop = message.get("stop", {})
        call_sid = stop.get("callSid") if isinstance(stop, dict) else None
        self.stopped = True
        return Stopped(
            call_sid=call_sid if isinstance(call_sid, str) else None,
            sequence=_number(message, "sequenceNumber", required=False),
        )

    # -- building -----------------------------------------------------------------------------------

    def send_audio(self, ulaw: bytes, tag: Any = None) -> tuple[str, str, str]:
        """A `media` frame with the audio and the `mark` frame after it; returns (media, mark, mark name)."""
        sid = self._require_started()
        self._mark_counter += 1
        name = f"m{self._mark_counter}"
        self._pending[name] = _PendingMark(tag)
        payload = base64.b64encode(ulaw).decode("ascii")
        media = json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}}, separators=(",", ":"))
        return media, self._mark_frame(sid, name), name

    def clear(self) -> str:
        """Drop Twilio's buffered audio; the marks still pending will echo as flushed."""
        sid = self._require_started()
        for pending in self._pending.values():
            pending.flushed = True
        return json.dumps({"event": "clear", "streamSid": sid}, separators=(",", ":"))

    def adopt_flushed_marks(self, names: list[str]) -> None:
        """Marks another sender put on this stream (the Realtime relay, before a `clear` and a hand-over to the
        offline engine): their echoes are expected, and mean flushed."""
        for name in names:
            self._pending[name] = _PendingMark(None, flushed=True)

    @property
    def pending_marks(self) -> int:
        """Marks sent and not yet echoed (played or flushed)."""
        return len(self._pending)

    @property
    def playing(self) -> bool:
        """Audio is buffered at Twilio that has not been played or flushed yet."""
        return any(not p.flushed for p in self._pending.values())

    def _require_started(self) -> str:
        if self.stream_sid is None:
            raise StreamNotStarted("Twilio has not sent start yet")
        if self.stopped:
            raise StreamNotStarted("the stream has stopped")
        return self.stream_sid

    @staticmethod
    def _mark_frame(sid: str, name: str) -> str:
        return json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}}, separators=(",", ":"))


# -- field helpers ----------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _excerpt(frame: object) -> str:
    text = frame if isinstance(frame, str) else repr(frame)
    return text[:120]


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise _Bad(f"{key} is not an object")
    return value


def _text(message: dict[str, Any], key: str, limit: int) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _Bad(f"{key} is not a short string")
    return value


def _sid(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not _SID.match(value):
        raise _Bad(f"{key} is not a sid")
    return value


def _number(message: dict[str, Any], key: str, *, required: bool) -> int:
    """Twilio sends numbers as strings of digits."""
    value = message.get(key)
    if value is None and not required:
        return 0
    if not isinstance(value, str) or not _DIGITS.match(value):
        raise _Bad(f"{key} is not a number string")
    return int(value)
