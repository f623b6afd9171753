"""Rendering the dashboard's pages: the Jinja2 templates (autoescaped), the filters that write times in the
business's timezone, and the headers every page goes out with (no caching, no framing, scripts only from here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from silentpartner.phones import national_format
from silentpartner.speech_text import clock


def _day(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day}"


def _when(moment: datetime) -> str:
    return f"{_day(moment)}, {clock(moment)}"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _ms(value: int | None) -> str:
    return "—" if value is None else f"{value:,} ms"


def _phone(number: str | None) -> str:
    return national_format(number) if number else "hidden number"


env = Environment(
    loader=PackageLoader("silentpartner.dashboard", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(day=_day, when=_when, clock=clock, duration=_duration, percent=_percent, ms=_ms, phone=_phone)


def security_headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    # 'self' covers the page's own origin; the browser phone's websocket is named for older browsers' sake.
    connect = f"'self' ws://{host} wss://{host}" if host and "/" not in host and " " not in host else "'self'"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
            f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
    }


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    html = env.get_template(template).render(path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code, headers=security_headers(request))
