"""One JSON log line per HTTP request (method, path, status, time taken), through the product's own log
so phone numbers in paths and queries are masked like everywhere else. uvicorn's access log is off.

Health probes (`/healthz`, `/readyz`) come every few seconds from a load balancer: they are logged at
DEBUG only, so they do not drown the requests that matter.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silentpartner.logs import log_event

log = logging.getLogger("silentpartner.access")

QUIET_PATHS = frozenset({"/healthz", "/readyz"})


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            path = scope.get("path", "")
            # Decoded before it is logged, so "%2B1503..." is seen (and masked) as the phone number it is.
            query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
            client = scope.get("client")
            log_event(
                log,
                "http.request",
                logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                method=scope.get("method", ""),
                path=path + (f"?{query}" if query else ""),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                client=client[0] if client else None,
            )
