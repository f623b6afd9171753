"""Twilio's voice webhooks and the media websocket.

- `POST /twilio/voice`: signed; the business is the one whose number was called (`To`). Answers at once
  with `<Connect><Stream>` carrying a one-time token, after starting the speech engine and the slot
  cache warming in the background (on Realtime, the call's session starts opening: the prewarm). An
  unknown number or an unhealthy product gets a short spoken apology and a hang-up (and, when the
  business is known, a text-back), never a dead line.
- `POST /twilio/voice-after`: the `<Connect action>`, fetched when the stream ends; hangs up.
- `POST /twilio/status`, `POST /twilio/stream-status`: record status and duration; settle the call.
- `POST /twilio/transfer/whisper`, `POST /twilio/transfer/ended`: a warm transfer (`transfer_routes.py`).
- `WS /twilio/media`: Media Streams; `start.customParameters` must carry the unused token minted for
  that call sid, else the socket is closed with 1008.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import Response
from starlette.datastructures import FormData

from silentpartner.logs import business_var, call_sid_var, log_event
from silentpartner.phones import try_e164
from silentpartner.runtime import Runtime
from silentpartner.twilio_signatures import request_is_from_twilio
from silentpartner.voice import records, tokens, transfer_routes, twiml
from silentpartner.voice.engines import engine_for
from silentpartner.voice.warmup import speech_health, warm_for_call
from silentpartner.webhook_fields import bounded_int, clean_text, one_of, twilio_sid

log = logging.getLogger(__name__)
router = APIRouter()

UNKNOWN_NUMBER_APOLOGY = "Sorry, this number isn't set up to take calls yet. Please try again later. Goodbye."
UNAVAILABLE_APOLOGY = (
    "Sorry, our assistant can't take your call right now. We'll text you shortly so we can help. Goodbye."
)
# Twilio's CallStatus values (the call resource's statuses); anything else is not stored.
CALL_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress", *records.TERMINAL_STATUSES})
MAX_CALL_SECONDS = 24 * 60 * 60  # Twilio ends every call at 24 hours (the longest TimeLimit)
_background: set[asyncio.Task] = set()


def _xml(body: str) -> Response:
    return Response(content=body, media_type="application/xml")


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def _signed_form(request: Request) -> FormData | None:
    runtime = _runtime(request)
    form = await request.form()
    if not request_is_from_twilio(runtime.settings, request, form):
        log_event(log, "twilio.signature_rejected", level=logging.WARNING, path=request.url.path)
        return None
    return form


def _spawn(coro) -> None:
    task = asyncio.create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


@router.post("/twilio/voice")
async def incoming_call(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return Response("forbidden", status_code=403)
    runtime = _runtime(request)
    now = runtime.clock.now()
    call_sid = twilio_sid(form.get("CallSid"), "CA")
    caller = try_e164(str(form.get("From", "")))
    called = try_e164(str(form.get("To", "")))
    call_sid_var.set(call_sid)
    business = runtime.businesses.by_number(called)
    if business is None or call_sid is None:
        log_event(log, "call.unknown_number", level=logging.WARNING, to=clean_text(form.get("To"), 32))
        return _xml(twiml.apology(UNKNOWN_NUMBER_APOLOGY))
    business_var.set(business.slug)
    forwarded_from = try_e164(str(form.get("ForwardedFrom", ""))) if form.get("ForwardedFrom") else None
    is_owner = business.is_owner(caller)
    # Realtime (not for the owner's and team's own calls, which run on the rules brain offline).
    realtime = (
        runtime.realtime is not None
        and engine_for(runtime.settings, business)[0] == "realtime"
        and not (is_owner or business.staff(caller))
    )
    healthy, why = (True, "") if realtime else speech_health(runtime)
    if healthy and business.slug not in runtime.calendars:
        healthy, why = False, "no calendar for this business"
    try:
        await records.open_call(
            runtime.db,
            sid=call_sid,
            business=business.slug,
            from_number=caller,
            to_number=called,
            forwarded_from=forwarded_from,
            is_owner=is_owner,
            channel="phone",
            now=now,
        )
        if not healthy:
            return await _unavailable(runtime, call_sid, now, why)
        token = await tokens.mint(runtime.db, call_sid, now=now)
    except Exception:
        log.exception("call.webhook_store_failed")
        return _xml(twiml.apology(UNAVAILABLE_APOLOGY))
    if realtime:
        runtime.realtime.prewarm(call_sid)  # type: ignore[union-attr]  # the session opens while Twilio connects
    _spawn(warm_for_call(runtime, business))
    log_event(log, "call.answered", forwarded=bool(forwarded_from), owner=is_owner)
    return _xml(twiml.connect_stream(runtime.settings, call_sid=call_sid, token=token))


async def _unavailable(runtime: Runtime, call_sid: str, now: datetime, why: str) -> Response:
    log_event(log, "call.unavailable", level=logging.WARNING, why=why)
    await records.update_call(runtime.db, call_sid, status="unavailable")
    await records.settle(runtime.db, call_sid, now=now, reason="unavailable")
    return _xml(twiml.apology(UNAVAILABLE_APOLOGY))


@router.post("/twilio/voice-after")
async def after_stream(request: Request) -> Response:
    """The stream ended (we closed it, or it failed). Nothing follows: end the call cleanly."""
    if await _signed_form(request) is None:
        return Response("forbidden", status_code=403)
    return _xml(twiml.hangup())


@router.post("/twilio/status")
async def call_status(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return Response("forbidden", status_code=403)
    runtime = _runtime(request)
    call_sid = twilio_sid(form.get("CallSid"), "CA")
    status = one_of(form.get("CallStatus"), CALL_STATUSES)
    if call_sid is None or status is None:
        return Response(status_code=204)
    values: dict[str, object] = {"status": status}
    duration = bounded_int(form.get("CallDuration"), low=0, high=MAX_CALL_SECONDS)
    if duration is not None:
        values["duration_seconds"] = duration
    now = runtime.clock.now()
    if status in records.TERMINAL_STATUSES:
        values["ended_at"] = now
    await records.update_call(runtime.db, call_sid, **values)
    if status in records.TERMINAL_STATUSES:
        await records.settle(runtime.db, call_sid, now=now, reason=f"status:{status}")
    return Response(status_code=204)


@router.post("/twilio/stream-status")
async def stream_status(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return Response("forbidden", status_code=403)
    runtime = _runtime(request)
    call_sid = twilio_sid(form.get("CallSid"), "CA")
    event = clean_text(form.get("StreamEvent"), 32) or ""
    if call_sid is None:
        return Response(status_code=204)
    log_event(log, "call.stream_status", stream_event=event, error=clean_text(form.get("StreamError"), 200))
    now = runtime.clock.now()
    if event == "stream-error":
        await records.update_call(runtime.db, call_sid, status="stream-error")
    if event in ("stream-stopped", "stream-error"):
        record = await records.load_call(runtime.db, call_sid)
        if record is not None and record.ended_at is None:
            duration = max(0, int((now - record.started_at).total_seconds()))
            await records.update_call(runtime.db, call_sid, ended_at=now, duration_seconds=duration)
        await records.settle(runtime.db, call_sid, now=now, reason=event)
    return Response(status_code=204)


@router.websocket("/twilio/media")
async def media_stream(websocket: WebSocket) -> None:
    from silentpartner.voice.media import serve_media_stream

    await serve_media_stream(websocket, websocket.app.state.runtime)


router.include_router(transfer_routes.router)


def include(app: FastAPI) -> None:
    app.include_router(router)
