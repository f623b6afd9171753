"""Who is asking: the FastAPI dependencies every dashboard page, action and API route goes through.

- `page_owner`: a page; no session sends the browser to the login page.
- `api_owner`: the JSON API, the live stream and the OpenAPI document; the session cookie or
  `Authorization: Bearer <owner token>`, else 401.
- `form_owner`: an action (a POST); the session and its CSRF token (form field `csrf` or header `X-CSRF-Token`),
  else 403.

The business is always the session's (or the token's): nothing a request says picks another one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from silentpartner.business import Business
from silentpartner.dashboard import sessions
from silentpartner.dashboard.owners import OwnerKeys
from silentpartner.logs import log_event
from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)

MAX_FORM_FIELDS = 20


@dataclass(frozen=True)
class Owner:
    business: Business
    session: sessions.OwnerSession | None  # None when the request came with a Bearer token


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def owner_keys(runtime: Runtime) -> OwnerKeys:
    """The owner tokens, read from the environment once per process (the dashboard component does it at start)."""
    if runtime.owner_keys is None:
        runtime.owner_keys = OwnerKeys.resolve(runtime.businesses, runtime.settings, os.environ)
    return runtime.owner_keys


def session_of(request: Request) -> sessions.OwnerSession | None:
    runtime = runtime_of(request)
    return sessions.read(owner_keys(runtime), request.cookies.get(sessions.SESSION_COOKIE), runtime.clock.now())


async def page_owner(request: Request) -> Owner:
    session = session_of(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "log in first", headers={"Location": f"/dashboard/login?next={quote(target)}"})
    return Owner(session.business, session)


async def api_owner(request: Request) -> Owner:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        key = owner_keys(runtime_of(request)).by_token(token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            log_event(log, "dashboard.bearer_refused", logging.WARNING, path=request.url.path)
            raise HTTPException(401, "a valid owner token is needed", headers={"WWW-Authenticate": "Bearer"})
        return Owner(key.business, None)
    session = session_of(request)
    if session is None:
        raise HTTPException(
            401, "log in, or send Authorization: Bearer <owner token>", headers={"WWW-Authenticate": "Bearer"}
        )
    return Owner(session.business, session)


async def form_owner(request: Request) -> tuple[Owner, FormData]:
    session = session_of(request)
    if session is None:
        raise HTTPException(403, "no session: log in again")
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    offered = request.headers.get("x-csrf-token") or form.get("csrf")
    if not sessions.csrf_matches(session, offered if isinstance(offered, str) else None):
        log_event(log, "dashboard.csrf_refused", logging.WARNING, path=request.url.path, business=session.business.slug)
        raise HTTPException(403, "this form is stale or did not come from the dashboard: reload the page and try again")
    return Owner(session.business, session), form
