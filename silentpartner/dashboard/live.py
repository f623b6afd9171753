"""The live stream: server-sent events telling an owner's open pages that a call, booking or text of their
business changed, wherever it changed (the store's `ChangeHub`, fed across instances on PostgreSQL).

An event carries no customer data, only what changed (`{"kind", "key", "id"}`); the page fetches what it shows
through the same access checks as any page. `?call=<sid>` narrows the stream to one call (the browser phone
follows its own call's transcript so).

A stream lasts at most `STREAM_SECONDS` and then ends; the browser's EventSource reconnects by itself (after
`retry`) and the page re-reads what it shows, so nothing is missed in between. That bound is also what lets a
server that is shutting down finish: it waits for open responses to end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from silentpartner.business import Business
from silentpartner.store.changes import CatchUp, Change, ChangeHub

STREAM_SECONDS = 25.0
KEEPALIVE_SECONDS = 10.0  # a comment line now and then keeps proxies from closing an idle stream
RETRY_MS = 1000
SHOWN = frozenset({"call", "booking", "message"})  # what a page lists; "slots" is the slot caches' news


def _event(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(
    hub: ChangeHub,
    business: Business,
    *,
    call_sid: str | None = None,
    lifetime: float = STREAM_SECONDS,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + lifetime
    with hub.subscribe() as subscription:
        yield f"retry: {RETRY_MS}\n" + _event("ready", {})
        while True:
            left = ends_at - loop.time()
            if left <= 0:
                return
            try:
                async with asyncio.timeout(min(left, keepalive)):
                    item = await subscription.next()
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if item is None:  # the hub closed: the server is stopping
                return
            if isinstance(item, CatchUp):
                yield _event("refresh", {})
            elif _for(item, business, call_sid):
                yield _event(item.kind, {"kind": item.kind, "key": item.key, "id": item.id})


def _for(change: Change, business: Business, call_sid: str | None) -> bool:
    if change.kind not in SHOWN or change.business != business.slug:
        return False
    return call_sid is None or (change.kind == "call" and change.key == call_sid)
