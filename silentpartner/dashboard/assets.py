"""The dashboard's stylesheet and scripts, served from the package (no build step, nothing from a CDN).

Only the files named here are served. The stylesheet is public (the login page needs it; it holds nothing of
any business); the scripts, like every page that uses them, need a session.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi.responses import Response

ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "phone.js": "text/javascript; charset=utf-8",
    "phone-worklet.js": "text/javascript; charset=utf-8",
}
PUBLIC = frozenset({"dashboard.css"})


@cache
def _read(name: str) -> bytes:
    return resources.files("silentpartner.dashboard").joinpath("assets", name).read_bytes()


def asset_response(name: str, *, logged_in: bool) -> Response:
    if name not in ASSETS:
        return Response("not found", status_code=404, media_type="text/plain")
    if name not in PUBLIC and not logged_in:
        return Response("log in first", status_code=401, media_type="text/plain")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    return Response(_read(name), media_type=ASSETS[name], headers=headers)
