"""The model's audio on its way to Twilio: the hot path, one per call.

Deltas are queued as they arrive and a writer sends them: when several of one item are waiting (a burst, or
a busy process), they go as one `media` message and one `mark`, so the number of socket writes falls as load
rises. A lone delta passes through untouched (the model speaks audio/pcmu, which is what Twilio plays).
Frames are built with orjson: the relay spends its CPU on messages, not on the audio.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from silentpartner.voice.realtime.playback import PlaybackLedger

MAX_DELTA_CHARS = 64 * 1024  # base64 of 48 KB, 6 s of μ-law: far more than OpenAI sends in one delta
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def base64_bytes(payload: str) -> int:
    """The decoded length of a base64 string, without decoding it."""
    return len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))


def is_base64(payload: Any, limit: int) -> bool:
    return (
        isinstance(payload, str)
        and 0 < len(payload) <= limit
        and len(payload) % 4 == 0
        and bool(_BASE64.fullmatch(payload))
    )


class TwilioOut:
    def __init__(
        self,
        transport: Any,
        stream_sid: str,
        ledger: PlaybackLedger,
        *,
        now: Callable[[], float],
        on_audio: Callable[[str, bytes | None], None],
        decode: bool = False,
    ) -> None:
        self.transport = transport
        self.ledger = ledger
        self.now = now
        self.on_audio = on_audio  # (item, the audio when `decode`) after each send: first-audio timing, the tape
        self.decode = decode
        self._sid = stream_sid
        self._queue: deque[tuple[str, str]] = deque()
        self._ready = asyncio.Event()
        self.sent_messages = 0

    def queue(self, item_id: str, payload: str) -> None:
        self._queue.append((item_id, payload))
        self._ready.set()

    @property
    def idle(self) -> bool:
        return not self._queue

    def drop(self) -> None:
        self._queue.clear()

    def clear_frame(self) -> str:
        return orjson.dumps({"event": "clear", "streamSid": self._sid}).decode()

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                item_id, payloads = self._take()
                if self.ledger.is_stale(item_id):
                    continue
                await self._send(item_id, payloads)

    def _take(self) -> tuple[str, list[str]]:
        item_id, payload = self._queue.popleft()
        payloads = [payload]
        while self._queue and self._queue[0][0] == item_id:
            payloads.append(self._queue.popleft()[1])
        return item_id, payloads

    async def _send(self, item_id: str, payloads: list[str]) -> None:
        audio: bytes | None = None
        if len(payloads) == 1 and not self.decode:
            payload, nbytes = payloads[0], base64_bytes(payloads[0])
        else:
            audio = b"".join(base64.b64decode(p) for p in payloads)
            payload, nbytes = base64.b64encode(audio).decode("ascii"), len(audio)
        name = self.ledger.sent(item_id, nbytes, self.now())
        sid = self._sid
        await self.transport.send(
            orjson.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}}).decode()
        )
        await self.transport.send(orjson.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}}).decode())
        self.sent_messages += 1
        self.on_audio(item_id, audio)
