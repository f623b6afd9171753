"""Twilio's requests during a warm transfer (see `warm_transfer.py` for the flow). Both are signed; the
query string (the summary, the number dialled) is part of what Twilio signs, so it is trusted only after
the signature checks out.

- `POST /twilio/transfer/whisper`: the `<Number url>`, fetched when the owner answers and again (with
  `Digits`) when they press a key. No key yet: the summary and "press any key". A key: an empty
  document, which bridges the caller.
- `POST /twilio/transfer/ended`: the `<Dial action>`. Records the outcome on the call; when the owner
  didn't pick up, queues a text with the summary to them and tells the caller they'll be called back.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from silentpartner.business import Business
from silentpartner.logs import business_var, call_sid_var, log_event
from silentpartner.phones import try_e164
from silentpartner.runtime import Runtime
from silentpartner.store import jobs
from silentpartner.store.models import CallRecord
from silentpartner.twilio_signatures import request_is_from_twilio, signed_url
from silentpartner.voice import twiml, warm_transfer

log = logging.getLogger(__name__)
router = APIRouter()

FALLBACK_SUMMARY = "A caller asked to speak with you."


def _xml(body: str) -> Response:
    return Response(content=body, media_type="application/xml")


async def _signed_form(request: Request) -> FormData | None:
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    if not request_is_from_twilio(runtime.settings, request, form):
        log_event(log, "twilio.signature_rejected", level=logging.WARNING, path=request.url.path)
        return None
    return form


def _summary(request: Request) -> str:
    return warm_transfer.clean_summary(request.query_params.get("summary")) or FALLBACK_SUMMARY


@router.post(warm_transfer.WHISPER_PATH)
async def whisper(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return Response("forbidden", status_code=403)
    call_sid_var.set(str(form.get("ParentCallSid", "")) or None)
    if str(form.get("Digits", "")).strip():
        log_event(log, "transfer.accepted")
        return _xml(twiml.empty())
    settings = request.app.state.runtime.settings
    # A key press comes back to this same signed URL, with `Digits` added.
    accept_url = signed_url(settings, request)
    log_event(log, "transfer.whisper")
    return _xml(twiml.whisper(warm_transfer.whisper_line(_summary(request)), accept_url=accept_url))


@router.post(warm_transfer.ENDED_PATH)
async def dial_ended(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return Response("forbidden", status_code=403)
    runtime: Runtime = request.app.state.runtime
    call_sid = str(form.get("CallSid", ""))
    call_sid_var.set(call_sid or None)
    dial_status = str(form.get("DialCallStatus", ""))
    bridged = form.get("DialBridged")
    outcome = warm_transfer.dial_outcome(dial_status, None if bridged is None else str(bridged))
    log_event(log, "transfer.ended", dial_status=dial_status, outcome=outcome)
    business: Business | None = None
    try:
        business = await _settle(runtime, request, form, call_sid, outcome)
    except Exception:  # the caller is still on the line: they hear the TwiML whatever the store did
        log.exception("transfer.settle_failed")
    if outcome == "connected":
        return _xml(twiml.hangup())
    if business is None:
        business = runtime.businesses.by_number(str(form.get("To", "")))
    if business is None:
        return _xml(twiml.apology("Sorry, nobody could pick up just now. Please try again later. Goodbye."))
    return _xml(twiml.apology(warm_transfer.missed_for_caller(business)))


async def _settle(runtime: Runtime, request: Request, form: FormData, call_sid: str, outcome: str) -> Business | None:
    """Write the outcome on the call and, when nobody picked up, queue the owner's text (once per call:
    Twilio retries a slow action request)."""
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == call_sid)) if call_sid else None
        business = runtime.businesses.by_slug(record.business) if record is not None else None
        if business is None:
            business = runtime.businesses.by_number(str(form.get("To", "")))
        if record is not None:
            record.transfer_outcome = outcome
        if outcome == "connected" or business is None:
            return business
        business_var.set(business.slug)
        caller = record.from_number if record is not None else try_e164(str(form.get("From", "")))
        owner = try_e164(request.query_params.get("to")) or business.owner_mobile
        body = warm_transfer.missed_text(_summary(request), caller)
        queued = await jobs.enqueue(
            session,
            "sms",
            {"business": business.slug, "to": owner, "body": body, "kind": "owner_callback", "call_sid": call_sid},
            run_at=now,
            business=business.slug,
            dedupe_key=f"transfer-missed:{call_sid}" if call_sid else None,
            now=now,
        )
    log_event(log, "transfer.owner_text_queued", queued=queued is not None)
    return business
