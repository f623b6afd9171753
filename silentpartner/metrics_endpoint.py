"""`GET /metrics`: the app's Prometheus metrics in the text format, to the scraper the operator allows.

- `METRICS_TOKEN` set: only a request with `Authorization: Bearer <token>` (compared in constant time);
  anything else gets 401.
- No token: only a request made from this machine (a loopback client address, as uvicorn sees it after
  trusting its `--forwarded-allow-ips` proxies) and not passed on by a proxy (no `Forwarded` or
  `X-Forwarded-For` header); anything else gets 404, as if there were no such page. So a reverse proxy on
  the same machine never exposes the metrics by forwarding a stranger's request.

The job queue's depth is read from the database at each scrape (so every instance reports the shared
queue, and a scrape of a stale instance is still right).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from silentpartner.metrics import CONTENT_TYPE, Metrics
from silentpartner.runtime import Runtime
from silentpartner.store import jobs

log = logging.getLogger(__name__)

FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(request: Request, token: str | None) -> Response | None:
    """Why this request may not read the metrics (a response to send), or None when it may."""
    if token:
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), token.encode()):
            return None
        return PlainTextResponse("a bearer token is required", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    local = _is_loopback(request.client.host if request.client else None)
    if local and not any(name in request.headers for name in FORWARDING_HEADERS):
        return None
    return PlainTextResponse("Not Found", status_code=404)


def register(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        refused = refusal(request, runtime.settings.secret("metrics_token"))
        if refused is not None:
            return refused
        exported: Metrics = request.app.state.metrics
        try:
            async with runtime.db.session() as session:
                depth = await jobs.depth(session, now=runtime.clock.now())
        except Exception:
            log.exception("metrics.queue_depth_failed")
            depth = None
        exported.queue_depth(depth)
        return Response(exported.render(), media_type=CONTENT_TYPE)
