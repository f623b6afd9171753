"""Realtime sessions: opening one through the SDK's GA interface, and prewarming one per call.

`AsyncOpenAI(websocket_base_url=OPENAI_REALTIME_URL).realtime.connect(model=...)`: the SDK appends
`/realtime?model=` and sends the key as a Bearer token, with no `OpenAI-Beta` header (that selects the
retired beta). Events cross as raw JSON text frames (`send_raw`, `recv_bytes`, orjson): a call sends fifty
audio appends a second, and the SDK's typed send path costs more than the relay itself.

Prewarm: the voice webhook starts opening the call's session (`prewarm(call_sid)`) while Twilio is still
fetching the TwiML and opening the media stream, so the greeting can be asked for as soon as the stream
starts. The media websocket claims it by call sid; one nobody claims within REALTIME_PREWARM_SECONDS (the
stream never came, or landed on another instance) is closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from silentpartner.logs import log_event
from silentpartner.settings import Settings

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 10.0


class RealtimeClosed(Exception):
    """The Realtime socket is gone (closed by the server, or dropped)."""


class RealtimeSession:
    """One open Realtime websocket; `opened_at` is on the monotonic clock (for rotation)."""

    def __init__(self, manager: Any, connection: Any, opened_at: float) -> None:
        self._manager = manager
        self._connection = connection
        self.opened_at = opened_at
        self.closed = False

    async def send(self, event: dict[str, Any]) -> None:
        if self.closed:
            raise RealtimeClosed("session closed")
        try:
            await self._connection.send_raw(orjson.dumps(event).decode())  # a text frame, as the API expects
        except Exception as exc:
            self.closed = True
            raise RealtimeClosed(repr(exc)) from exc

    async def receive(self) -> dict[str, Any]:
        try:
            raw = await self._connection.recv_bytes()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.closed = True
            raise RealtimeClosed(repr(exc)) from exc
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"type": "invalid"}
        return event if isinstance(event, dict) else {"type": "invalid"}

    async def close(self) -> None:
        self.closed = True
        try:
            await self._manager.__aexit__(None, None, None)
        except Exception:
            pass  # already gone


Opener = Callable[[], Awaitable[RealtimeSession]]


class RealtimeSessions:
    """The process's way to Realtime: one SDK client, and the sessions prewarmed for calls not yet bridged."""

    def __init__(self, settings: Settings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        from openai import AsyncOpenAI

        self.settings = settings
        self.model = settings.openai_realtime_model
        self.now = monotonic
        self.client = AsyncOpenAI(
            api_key=settings.secret("openai_api_key"),
            base_url=settings.openai_base_url,
            websocket_base_url=settings.openai_realtime_url,
            max_retries=0,
        )
        self._warm: dict[str, asyncio.Task[RealtimeSession]] = {}
        self._expiry: dict[str, asyncio.TimerHandle] = {}

    async def open(self) -> RealtimeSession:
        manager = self.client.realtime.connect(model=self.model)
        async with asyncio.timeout(OPEN_TIMEOUT_S):
            connection = await manager.enter()
        return RealtimeSession(manager, connection, self.now())

    # -- prewarm ------------------------------------------------------------------------------------
    def prewarm(self, call_sid: str) -> None:
        if call_sid in self._warm or not self.settings.realtime_prewarm:
            return
        task = asyncio.create_task(self.open(), name=f"realtime.prewarm:{call_sid}")
        task.add_done_callback(_quiet)
        self._warm[call_sid] = task
        loop = asyncio.get_running_loop()
        self._expiry[call_sid] = loop.call_later(self.settings.realtime_prewarm_seconds, self._expire, call_sid)

    async def claim(self, call_sid: str) -> RealtimeSession:
        """The session prewarmed for this call, else a new one. Raises when none can be opened."""
        task = self._warm.pop(call_sid, None)
        timer = self._expiry.pop(call_sid, None)
        if timer is not None:
            timer.cancel()
        if task is not None:
            try:
                return await task
            except Exception as exc:
                log_event(log, "realtime.prewarm_failed", logging.WARNING, error=repr(exc))
        return await self.open()

    def _expire(self, call_sid: str) -> None:
        self._expiry.pop(call_sid, None)
        task = self._warm.pop(call_sid, None)
        if task is not None:
            log_event(log, "realtime.prewarm_unclaimed", call_sid=call_sid)
            _close_when_open(task)

    @property
    def waiting(self) -> int:
        """Prewarmed sessions not claimed yet."""
        return len(self._warm)

    async def close(self) -> None:
        for timer in self._expiry.values():
            timer.cancel()
        self._expiry.clear()
        tasks = list(self._warm.values())
        self._warm.clear()
        for task in tasks:
            _close_when_open(task)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()


def _quiet(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failed prewarm is reported when claimed, never as "never retrieved"


def _close_when_open(task: asyncio.Task[RealtimeSession]) -> None:
    if not task.done():
        task.cancel()
        return
    if not task.cancelled() and task.exception() is None:
        asyncio.get_running_loop().create_task(task.result().close())


class RealtimeComponent:
    """Puts `runtime.realtime` in place when some business's calls run on Realtime (see `engines.engine_for`)."""

    def __init__(self) -> None:
        self._sessions: RealtimeSessions | None = None

    async def start(self, runtime) -> None:
        from silentpartner.voice.engines import engine_for

        if any(engine_for(runtime.settings, business)[0] == "realtime" for business in runtime.businesses):
            self._sessions = RealtimeSessions(runtime.settings)
            runtime.realtime = self._sessions

    async def stop(self) -> None:
        if self._sessions is not None:
            await self._sessions.close()
            self._sessions = None
