"""Run an ASGI app under a real uvicorn on a loopback port, in a background thread.

Startup is awaited on an event uvicorn sets, not a sleep; the port is chosen by the OS.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()

    def install_signal_handlers(self) -> None:  # not the main thread
        pass


class LiveServer:
    """`with LiveServer(app) as server: httpx.get(server.url + "/healthz")`."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", **config: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it Nagle + delayed ACK add ~40 ms per request.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self._ready = threading.Event()
        cfg = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio", **config)
        self.server = _Server(cfg, self._ready)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # surfaced by start()
            self.error = exc
            self._ready.set()

    def start(self, timeout: float = 30) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(timeout) or self.error or not self.server.started:
            self.stop()
            raise RuntimeError(f"server did not start: {self.error!r}")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self.sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
