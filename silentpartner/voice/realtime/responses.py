"""One response at a time (sans-I/O but for the send it is given).

The API refuses a `response.create` while a response is active ("conversation_already_has_active_response"),
and the server starts responses of its own (semantic VAD answers the caller). So a request made while one is
active, or asked for but not yet created, or while tools run (`held`), waits here and goes when the way is
clear; a request the server refused because it had just started one of its own is re-queued.

It also knows which responses speak the engine's own lines word for word (a read-back): the next response
after `say_next` is set. The call needs that to judge a caller's yes (see `relay.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

FILLER = {"filler": True}  # marks an out-of-band filler request: never re-queued


class Responses:
    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._send = send
        self.active: str | None = None  # the response being produced
        self.requested: dict[str, Any] | None = None  # a response.create sent, not yet seen as created
        self.held = False  # tools are running: their answer goes first
        self.say_next = False  # the next response we ask for says the engine's own lines
        self._deferred: list[dict[str, Any]] = []
        self._verbatim: set[str] = set()
        self._quiet = asyncio.Event()

    @property
    def idle(self) -> bool:
        return self.active is None and self.requested is None

    async def ask(self, create: dict[str, Any]) -> None:
        """Ask for a response now, or as soon as the way is clear."""
        if not self.idle or self.held:
            self._deferred.append(create)
            return
        self.requested = create
        await self._send(create)

    async def filler(self, create: dict[str, Any]) -> bool:
        """A filler goes only if nothing else is speaking; False when it did not."""
        if not self.idle:
            return False
        self.requested = FILLER
        await self._send(create)
        return True

    def created(self, response_id: str) -> None:
        self.active = response_id
        if self.say_next and self.requested is not None and self.requested is not FILLER:
            self._verbatim.add(response_id)
            self.say_next = False
        self.requested = None

    def done(self) -> tuple[str | None, bool]:
        """The active response ended: (its id, whether it spoke the engine's lines word for word)."""
        response_id, self.active, self.requested = self.active, None, None
        self._quiet.set()
        return response_id, response_id in self._verbatim

    async def flush(self) -> None:
        """Send the next waiting request, if the way is clear."""
        if self._deferred and self.idle and not self.held:
            await self.ask(self._deferred.pop(0))

    async def release(self, answer: dict[str, Any]) -> None:
        """Tools are done: their answer (or a request that waited for them) goes now."""
        self.held = False
        await self.ask(self._deferred.pop(0) if self._deferred else answer)

    def refused(self) -> None:
        """The server had started a response of its own: ours waits for it."""
        if self.requested is not None and self.requested is not FILLER:
            self._deferred.insert(0, self.requested)
        self.requested = None
        self._quiet.set()

    def reset(self) -> None:
        """A new session (or a response that never ended): nothing is active any more."""
        self.active = self.requested = None
        self._quiet.set()

    async def until_idle(self, stop: asyncio.Event) -> None:
        while not self.idle and not stop.is_set():
            self._quiet.clear()
            await self._quiet.wait()

    def wake(self) -> None:
        self._quiet.set()
