"""Twilio's messaging webhooks: `POST /twilio/sms` (a text came in) and `POST /twilio/sms-status`
(delivery status of a text we sent). Both check X-Twilio-Signature against PUBLIC_URL + path and
answer 403 when it does not match."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import update

from silentpartner import metrics
from silentpartner.calendar import patience
from silentpartner.logs import log_event, mask_phone
from silentpartner.messaging.inbound import InboundText, handle_text
from silentpartner.messaging.sms import set_opt_out
from silentpartner.phones import try_e164
from silentpartner.store.models import MessageRecord
from silentpartner.twilio_signatures import request_is_from_twilio
from silentpartner.webhook_fields import bounded_int, clean_text, one_of, twilio_sid

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.routes")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Delivery errors worth keeping an eye on: unreachable handset, landline / unreachable carrier, unregistered 10DLC.
WATCHED_ERRORS = {30003: "unreachable", 30006: "landline", 30034: "unregistered_10dlc"}
# Twilio's MessageStatus values; anything else is not stored.
MESSAGE_STATUSES = frozenset(
    {
        "accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed", "delivered", "undelivered",
        "receiving", "received", "read", "partially_delivered",
    }
)  # fmt: skip
MAX_BODY_CHARS = 1600  # Twilio's longest message body
MAX_ERROR_CODE = 999_999


def _twiml(body: str = EMPTY_TWIML) -> Response:
    return Response(body, media_type="application/xml")


def register(app: FastAPI) -> None:
    router = APIRouter()

    @router.post("/twilio/sms")
    async def inbound_sms(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        form = await request.form()
        if not request_is_from_twilio(runtime.settings, request, form):
            log_event(log, "sms.bad_signature", logging.WARNING, path=request.url.path)
            return PlainTextResponse("invalid signature", status_code=403)
        business = runtime.businesses.by_number(str(form.get("To", "")))
        sender = try_e164(str(form.get("From", "")))
        if business is None or sender is None:
            log_event(log, "sms.unroutable", logging.WARNING, to=clean_text(form.get("To"), 32))
            return _twiml()
        text = InboundText(
            business=business,
            from_number=sender,
            body=clean_text(form.get("Body"), MAX_BODY_CHARS) or "",
            sid=twilio_sid(form.get("MessageSid") or form.get("SmsSid"), "SM", "MM"),
            opt_out_type=one_of(str(form.get("OptOutType", "")).upper(), frozenset({"STOP", "START", "HELP"})),
        )
        # Twilio waits about 15 s for this answer: a calendar rate limit fails fast, like on a call.
        with patience.interactive():
            await handle_text(runtime, text)
        return _twiml()

    @router.post("/twilio/sms-status")
    async def sms_status(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        form = await request.form()
        if not request_is_from_twilio(runtime.settings, request, form):
            return PlainTextResponse("invalid signature", status_code=403)
        sid = twilio_sid(form.get("MessageSid") or form.get("SmsSid"), "SM", "MM")
        status = one_of(form.get("MessageStatus") or form.get("SmsStatus"), MESSAGE_STATUSES)
        code = bounded_int(form.get("ErrorCode"), low=0, high=MAX_ERROR_CODE)
        if sid is None or status is None:
            return PlainTextResponse("missing or malformed MessageSid or MessageStatus", status_code=400)
        metrics.current().sms(status)
        now = runtime.clock.now()
        async with runtime.db.session() as session:
            values: dict = {"status": status, "updated_at": now}
            if code is not None:
                values["error_code"] = code
            result = await session.execute(
                update(MessageRecord)
                .where(MessageRecord.sid == sid)
                .values(**values)
                .returning(MessageRecord.business, MessageRecord.to_number)
            )
            row = result.first()
            if row is not None and code == 30006:
                await set_opt_out(session, row.business, row.to_number, now=now, textable=False, reason="landline")
        if code is not None:
            log_event(
                log,
                "sms.delivery_error",
                logging.WARNING,
                sid=sid,
                status=status,
                code=code,
                meaning=WATCHED_ERRORS.get(code, "other"),
                to=mask_phone(row.to_number) if row is not None else None,
            )
        return Response(status_code=204)

    app.include_router(router)
