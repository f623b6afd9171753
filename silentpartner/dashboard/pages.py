"""The dashboard's pages and actions (server-rendered HTML under `/dashboard/`).

Every page needs the owner's session (`page_owner`); every action is a POST carrying the session's CSRF token
(`form_owner`) and answers with a redirect, so a reload never repeats it. Notices after an action are fixed
phrases picked by a key in the query string: nothing a link says is written into the page as text.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from silentpartner.calendar.port import CalendarError
from silentpartner.dashboard import bookings, calls, live, messages, phone, reports, sessions
from silentpartner.dashboard.access import Owner, api_owner, form_owner, owner_keys, page_owner, runtime_of, session_of
from silentpartner.dashboard.assets import asset_response
from silentpartner.dashboard.charts import Series, bar_chart
from silentpartner.dashboard.schemas import CALL_FILTERS, RowId
from silentpartner.dashboard.templating import render, security_headers
from silentpartner.logs import log_event
from silentpartner.store.models import BookingRecord

log = logging.getLogger(__name__)
router = APIRouter(prefix="/dashboard", include_in_schema=False)

PageOwner = Annotated[Owner, Depends(page_owner)]
FormOwner = Annotated[tuple[Owner, FormData], Depends(form_owner)]

NOTICES = {
    "cancelled": "Cancelled. The customer has been texted.",
    "moved": "Moved. The customer has been texted.",
    "gone": "That booking is not on the calendar any more.",
    "calendar-down": "The calendar could not be reached; nothing was changed. Try again in a minute.",
    "logged-out": "You are logged out.",
}
MAX_TOKEN_CHARS = 512


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a dashboard path: a login link cannot send the owner anywhere else."""
    if target and target.startswith("/dashboard/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard/"


# -- login ----------------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, next: str | None = None, notice: str | None = None) -> Response:
    if session_of(request) is not None:
        return _see_other(_safe_next(next))
    nonce = sessions.new_login_nonce()
    response = render(
        request, "login.html", nonce=nonce, next=_safe_next(next), error=None, notice=NOTICES.get(notice or "")
    )
    _set_cookie(response, sessions.LOGIN_COOKIE, nonce, sessions.LOGIN_FORM_LIFETIME)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await request.form(max_fields=5, max_files=0)
    token, nonce, target = (str(form.get(k) or "") for k in ("token", "nonce", "next"))
    if not sessions.login_nonce_matches(request.cookies.get(sessions.LOGIN_COOKIE), nonce):
        return _login_again(request, target, "The login form had expired. Please try again.", status_code=403)
    key = owner_keys(runtime).by_token(token.strip()) if 0 < len(token) <= MAX_TOKEN_CHARS else None
    if key is None:
        log_event(log, "dashboard.login_refused", logging.WARNING)
        return _login_again(request, target, "That token is not right.", status_code=401)
    cookie, _ = sessions.issue(key, runtime.clock.now())
    response = _see_other(_safe_next(target))
    _set_cookie(response, sessions.SESSION_COOKIE, cookie, sessions.SESSION_LIFETIME)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    log_event(log, "dashboard.login", business=key.business.slug)
    return response


def _login_again(request: Request, target: str, error: str, *, status_code: int) -> Response:
    nonce = sessions.new_login_nonce()
    response = render(
        request, "login.html", status_code=status_code, nonce=nonce, next=_safe_next(target), error=error, notice=None
    )
    _set_cookie(response, sessions.LOGIN_COOKIE, nonce, sessions.LOGIN_FORM_LIFETIME)
    return response


def _set_cookie(response: Response, name: str, value: str, lifetime: timedelta) -> None:
    response.set_cookie(
        name, value, max_age=int(lifetime.total_seconds()), path="/", secure=True, httponly=True, samesite="lax"
    )


@router.post("/logout")
async def logout(checked: FormOwner) -> Response:
    response = _see_other("/dashboard/login?notice=logged-out")
    response.delete_cookie(sessions.SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


# -- appointments ---------------------------------------------------------------------------------------


@router.get("/")
async def today(request: Request, owner: PageOwner, notice: str | None = None) -> Response:
    runtime = runtime_of(request)
    upcoming = await bookings.upcoming(runtime, owner.business)
    days: dict[date, list] = {}
    for booking in upcoming:
        days.setdefault(booking.start.date(), []).append(booking)
    now = runtime.clock.now().astimezone(owner.business.tz)
    return render(
        request, "today.html", owner=owner, days=days, today=now.date(), now=now, notice=NOTICES.get(notice or "")
    )


@router.post("/bookings/{uid}/cancel")
async def cancel_booking(request: Request, uid: str, checked: FormOwner) -> Response:
    owner, _ = checked
    runtime = runtime_of(request)
    if await bookings.find(runtime, owner.business, uid) is None:
        return _missing(request, owner)
    result = await bookings.cancel(runtime, owner.business, uid)
    log_event(log, "dashboard.cancel", business=owner.business.slug, done=result.done)
    return _see_other(f"/dashboard/?notice={result.notice}")


@router.get("/bookings/{uid}/reschedule")
async def reschedule_page(request: Request, uid: str, owner: PageOwner, day: date | None = None) -> Response:
    runtime = runtime_of(request)
    row = await bookings.find(runtime, owner.business, uid)
    if row is None or row.status not in bookings.ACTIVE:
        return _missing(request, owner)
    return await _reschedule_form(request, owner, row, day)


async def _reschedule_form(
    request: Request,
    owner: Owner,
    row: BookingRecord,
    day: date | None,
    *,
    error: str | None = None,
    nearest: list[datetime] | None = None,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    tz = owner.business.tz
    today = runtime.clock.now().astimezone(tz).date()
    current = bookings.booking_out(owner.business, row)
    day = day or current.start.date()
    if not today <= day <= today + timedelta(days=owner.business.booking_window_days):
        day = today
    try:
        times = await bookings.free_times(runtime, owner.business, row, day)
    except CalendarError:
        times, error = [], error or NOTICES["calendar-down"]
    return render(
        request,
        "reschedule.html",
        status_code=status_code,
        owner=owner,
        booking=current,
        day=day,
        times=times,
        nearest=[t for t in nearest or [] if t.date() != day],
        prev_day=day - timedelta(days=1) if day > today else None,
        next_day=day + timedelta(days=1),
        error=error,
    )


@router.post("/bookings/{uid}/reschedule")
async def reschedule_booking(request: Request, uid: str, checked: FormOwner) -> Response:
    owner, form = checked
    runtime = runtime_of(request)
    row = await bookings.find(runtime, owner.business, uid)
    if row is None or row.status not in bookings.ACTIVE:
        return _missing(request, owner)
    try:
        start = datetime.fromisoformat(str(form.get("start") or "")[:64])
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        return await _reschedule_form(request, owner, row, None, error="Pick one of the times.", status_code=400)
    result = await bookings.reschedule(runtime, owner.business, row, start)
    log_event(log, "dashboard.reschedule", business=owner.business.slug, done=result.done)
    if not result.done:
        day = start.astimezone(owner.business.tz).date()
        return await _reschedule_form(
            request, owner, row, day, error=result.message, nearest=result.alternatives, status_code=409
        )
    return _see_other(f"/dashboard/?notice={result.notice}")


# -- calls, messages, reports ---------------------------------------------------------------------------


@router.get("/calls")
async def calls_page(request: Request, owner: PageOwner, outcome: str | None = None) -> Response:
    only = outcome if outcome in CALL_FILTERS else None
    listed = await calls.recent(runtime_of(request), owner.business, only=only)  # type: ignore[arg-type]
    return render(request, "calls.html", owner=owner, calls=listed, only=only, filters=CALL_FILTERS)


@router.get("/calls/{call_id}")
async def call_page(request: Request, call_id: RowId, owner: PageOwner) -> Response:
    call = await calls.detail(runtime_of(request), owner.business, call_id)
    if call is None:
        return _missing(request, owner)
    return render(request, "call.html", owner=owner, call=call, recording_url=call.recording_url)


@router.get("/messages")
async def messages_page(request: Request, owner: PageOwner) -> Response:
    threads = await messages.threads(runtime_of(request), owner.business)
    return render(request, "messages.html", owner=owner, threads=threads)


@router.get("/reports")
async def reports_page(request: Request, owner: PageOwner, period: str = "day") -> Response:
    chosen: reports.Period = "week" if period == "week" else "day"
    report = await reports.report(runtime_of(request), owner.business, chosen)
    labels = [row.label for row in report.rows]
    charts = [
        bar_chart(
            "Calls and bookings",
            labels,
            [
                Series("calls", [r.calls for r in report.rows]),
                Series("booked by a call", [r.booked_by_calls for r in report.rows]),
                Series("all bookings", [r.bookings for r in report.rows]),
            ],
        ),
        bar_chart(
            "Missed calls and the ones won back by text",
            labels,
            [Series("missed", [r.missed for r in report.rows]), Series("won back", [r.recovered for r in report.rows])],
        ),
        bar_chart(
            "Time to answer a turn",
            labels,
            [
                Series("p50", [r.latency_p50_ms for r in report.rows]),
                Series("p95", [r.latency_p95_ms for r in report.rows]),
            ],
            unit=" ms",
        ),
    ]
    return render(request, "reports.html", owner=owner, report=report, charts=charts)


# -- live, the browser phone, assets ----------------------------------------------------------------------


@router.get("/events")
async def events(request: Request, owner: Annotated[Owner, Depends(api_owner)], call: str | None = None) -> Response:
    hub = runtime_of(request).db.changes
    call_sid = call if call and len(call) <= 64 and call.isalnum() else None
    headers = {**security_headers(request), "X-Accel-Buffering": "no"}
    return StreamingResponse(
        live.stream(hub, owner.business, call_sid=call_sid), media_type="text/event-stream", headers=headers
    )


@router.get("/phone")
async def phone_page(request: Request, owner: PageOwner) -> Response:
    return render(request, "phone.html", owner=owner)


@router.post("/phone/calls")
async def start_phone_call(request: Request, checked: FormOwner) -> Response:
    owner, _ = checked
    try:
        opened = await phone.open_call(runtime_of(request), owner.business)
    except phone.PhoneUnavailable as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Cache-Control": "no-store"})
    log_event(log, "dashboard.phone_call", business=owner.business.slug, sid=opened.call_sid)
    return JSONResponse(opened.model_dump(), headers={"Cache-Control": "no-store"})


@router.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    return asset_response(name, logged_in=session_of(request) is not None)


def _missing(request: Request, owner: Owner) -> Response:
    return render(request, "missing.html", status_code=404, owner=owner)


def include(app: FastAPI) -> None:
    app.include_router(router)

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_root(request: Request) -> Response:
        return _see_other("/dashboard/" + (f"?{request.url.query}" if request.url.query else ""))
