"""A small reverse proxy in front of several app instances, as a load balancer would stand: every HTTP request
and every websocket goes to the next upstream in turn (round-robin, no sticky sessions), whoever sent it
before. An upstream that refuses the connection is skipped for that request (as nginx's passive checks do),
so killing one replica leaves the others serving.

It is an ASGI app run under a real uvicorn (`LiveServer`): HTTP is forwarded with httpx (the body read whole:
the product's requests and answers are small), websockets message by message with the `websockets` client.
`routed` records where each request went, so a test can say which replica handled what, and `turn_to`
lets a test line the rotation up (by sending requests through it) before the request it cares about.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.servers import LiveServer

# Headers that belong to one hop, never forwarded (RFC 9110 section 7.6.1), plus what we set ourselves.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# The websocket handshake's own headers: the client library sets them for the upstream leg.
_WS_OWN = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"}
)


@dataclass(frozen=True)
class Routed:
    kind: str  # "http" | "websocket"
    method: str
    path: str
    upstream: int  # index into the upstream list


class RoundRobinProxy:
    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self._turn = itertools.count()
        self._next = 0
        self.routed: list[Routed] = []
        self._http: httpx.AsyncClient | None = None

    # -- the rotation -------------------------------------------------------------------------------

    @property
    def next_upstream(self) -> int:
        return self._next % len(self.upstreams)

    def _order(self) -> list[int]:
        """This request's upstreams: the next in turn first, then the others (used only when it refuses)."""
        first = next(self._turn) % len(self.upstreams)
        self._next = first + 1
        return [(first + i) % len(self.upstreams) for i in range(len(self.upstreams))]

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward_http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._forward_websocket(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._http = httpx.AsyncClient(timeout=30)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._http is not None:
                    await self._http.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    def _headers(scope: dict[str, Any], drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in _HOP | drop
        ]
        client = scope.get("client")
        if client:
            headers.append(("x-forwarded-for", client[0]))
        return headers

    @staticmethod
    def _target(scope: dict[str, Any]) -> str:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        return path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")

    async def _forward_http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert self._http is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        target = self._target(scope)
        headers = self._headers(scope)
        for index in self._order():
            try:
                request = self._http.build_request(
                    scope["method"], self.upstreams[index] + target, headers=headers, content=body
                )
                response = await self._http.send(request, stream=True)
            except httpx.ConnectError:
                continue  # this replica is down: the next one takes the request
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
            self.routed.append(Routed("http", scope["method"], scope["path"], index))
            out = [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _HOP]
            out.append((b"content-length", str(len(raw)).encode()))
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            await send({"type": "http.response.body", "body": raw})
            return
        await send({"type": "http.response.start", "status": 502, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"no upstream answered"})

    async def _forward_websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        connecting = await receive()
        assert connecting["type"] == "websocket.connect"
        target = self._target(scope)
        headers = self._headers(scope, drop=_WS_OWN)
        subprotocols = scope.get("subprotocols") or None
        upstream = None
        for index in self._order():
            url = self.upstreams[index].replace("http://", "ws://", 1) + target
            try:
                upstream = await ws_connect(
                    url, additional_headers=headers, subprotocols=subprotocols, max_size=2**20, compression=None
                )
            except (OSError, InvalidHandshake):
                continue
            self.routed.append(Routed("websocket", "GET", scope["path"], index))
            break
        if upstream is None:
            await send({"type": "websocket.close", "code": 1013})
            return
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

        async def downstream_to_upstream() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close(message.get("code", 1000))
                    return
                if message.get("text") is not None:
                    await upstream.send(message["text"])
                elif message.get("bytes") is not None:
                    await upstream.send(message["bytes"])

        async def upstream_to_downstream() -> None:
            try:
                async for message in upstream:
                    if isinstance(message, str):
                        await send({"type": "websocket.send", "text": message})
                    else:
                        await send({"type": "websocket.send", "bytes": message})
            except ConnectionClosed:
                pass
            # The upstream's close code when it sent one; 1011 when it just vanished (a killed replica).
            received = upstream.close_code if upstream.close_code not in (None, 1006) else 1011
            try:
                await send({"type": "websocket.close", "code": received})
            except Exception:  # the caller had already gone
                pass

        tasks = [asyncio.create_task(downstream_to_upstream()), asyncio.create_task(upstream_to_downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()


class ProxyServer:
    """`with ProxyServer([a.url, b.url]) as proxy: httpx.get(proxy.url + "/healthz")`."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.app = RoundRobinProxy(upstreams)
        self.server = LiveServer(self.app)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def routed(self) -> list[Routed]:
        return self.app.routed

    async def turn_to(self, upstream: int, http: httpx.AsyncClient) -> None:
        """Send health probes through the proxy until `upstream` is next in the rotation."""
        for _ in range(len(self.app.upstreams)):
            if self.app.next_upstream == upstream:
                return
            assert (await http.get(self.url + "/healthz")).status_code == 200
        assert self.app.next_upstream == upstream, "the rotation never reached that upstream"

    def __enter__(self) -> ProxyServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
