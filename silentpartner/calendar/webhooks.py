"""The Cal.com webhook route (`POST /webhooks/calcom`): check the delivery and store it for the worker.

The route checks `X-Cal-Signature-256` (hex HMAC-SHA256 of the raw body), stores the delivery
(`WebhookEvent`, deduplicated) together with a `process_webhook` job in one transaction, and answers
at once. The job (run by the messaging worker) is `mirror_sync.process_delivery`. Cal.com does not retry
failed deliveries, so `reconcile` polls for whatever a missed delivery would have said.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from silentpartner import metrics
from silentpartner.calendar.webhook_payloads import SIGNATURE_HEADER, booking_uid, dedupe_key, signature_ok
from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.models import WebhookEvent
from silentpartner.webhook_fields import MAX_JSON_DEPTH, json_depth_within

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.calendar.webhooks")

# Cal.com's trigger names (WebhookTriggerEvents): capitals and underscores.
_TRIGGER = re.compile(r"[A-Z][A-Z_]{0,63}")


def _refuse(status: int, error: str) -> JSONResponse:
    metrics.current().webhook("calcom", "unauthorized" if status == 401 else "invalid")
    return JSONResponse({"error": error}, status_code=status)


def register(app: FastAPI) -> None:
    router = APIRouter()

    @router.post("/webhooks/calcom")
    async def calcom_webhook(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        settings = runtime.settings
        raw = await request.body()
        secret = settings.secret("calcom_webhook_secret")
        if secret:
            if not signature_ok(secret, raw, request.headers.get(SIGNATURE_HEADER)):
                log_event(log, "calcom.webhook_bad_signature", logging.WARNING)
                return _refuse(401, "invalid or missing X-Cal-Signature-256")
        elif not settings.calcom_allow_unsigned_webhooks:
            log_event(log, "calcom.webhook_refused_unsigned", logging.WARNING)
            return _refuse(401, "set CALCOM_WEBHOOK_SECRET (or CALCOM_ALLOW_UNSIGNED_WEBHOOKS=true) to accept webhooks")
        too_deep = _refuse(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _refuse(400, "malformed JSON")
        except RecursionError:  # nested past the parser's own stack
            return too_deep
        if not json_depth_within(envelope):
            return too_deep
        trigger = envelope.get("triggerEvent") if isinstance(envelope, dict) else None
        if not isinstance(trigger, str) or not _TRIGGER.fullmatch(trigger):
            return _refuse(400, "expected a JSON object with triggerEvent")
        payload = envelope["payload"] if isinstance(envelope.get("payload"), dict) else envelope
        stored = await store_delivery(runtime, trigger, payload, envelope, raw, request.query_params.get("business"))
        metrics.current().webhook("calcom", "accepted" if stored else "duplicate")
        return JSONResponse({"status": "accepted" if stored else "duplicate"}, status_code=200)

    app.include_router(router)


async def store_delivery(
    runtime: Runtime, trigger: str, payload: dict[str, Any], envelope: dict[str, Any], raw: bytes, business: str | None
) -> bool:
    """Write the delivery and its processing job in one transaction. False for a redelivery."""
    key = dedupe_key(trigger, payload, envelope, raw)
    now = runtime.clock.now()
    uid = booking_uid(payload)
    try:
        async with runtime.db.session() as session:
            if await session.scalar(select(WebhookEvent.id).where(WebhookEvent.dedupe_key == key)) is not None:
                return False
            event = WebhookEvent(
                source="calcom",
                dedupe_key=key,
                trigger=trigger,
                booking_uid=uid,
                payload={"envelope": envelope, "business": business},
                status="received",
                received_at=now,
            )
            session.add(event)
            await session.flush()
            await jobs.enqueue(
                session,
                "process_webhook",
                {"event_id": event.id},
                run_at=now,
                business=business,
                dedupe_key=f"process_webhook:{event.id}",
                now=now,
            )
    except IntegrityError:
        return False  # the same delivery raced in on another connection and won
    log_event(log, "calcom.webhook_stored", trigger=trigger, uid=uid)
    return True
