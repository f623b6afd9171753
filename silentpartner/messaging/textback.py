"""The missed-call text-back: a call that ended with nothing booked and no message taken gets a text
within a minute, and the reply continues as a text thread (`inbound.py`).

The voice side enqueues a `textback` job (payload `call_sid`) once per call; this decides, at send time,
whether the caller still needs one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from silentpartner import sms_text as texts
from silentpartner.logs import log_event, mask_phone
from silentpartner.messaging.sms import SendResult, sender_for
from silentpartner.store.models import CallRecord, MessageRecord

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.textback")
SETTLED = frozenset({"booked", "rescheduled", "cancelled", "message", "transferred"})


async def send_textback(runtime: Runtime, call_sid: str) -> SendResult | None:
    """Text the caller of `call_sid` if the call left them with nothing. None when no text is due."""
    async with runtime.db.session() as session:
        call = await session.scalar(select(CallRecord).where(CallRecord.sid == call_sid))
        if call is None:
            log_event(log, "textback.unknown_call", logging.WARNING, sid=call_sid)
            return None
        business = runtime.businesses.by_slug(call.business)
        if business is None or call.is_owner or business.is_own_number(call.from_number) or not call.from_number:
            return None
        if call.outcome in SETTLED or call.booking_uid or call.message_for_owner:
            return None
        # They already texted us (or we them) since the call began: the conversation is under way.
        since = call.started_at
        talked = await session.scalar(
            select(MessageRecord.id)
            .where(
                MessageRecord.business == business.slug,
                MessageRecord.created_at >= since,
                ((MessageRecord.from_number == call.from_number) & (MessageRecord.direction == "in"))
                | ((MessageRecord.to_number == call.from_number) & (MessageRecord.kind == "textback")),
            )
            .limit(1)
        )
        if talked is not None:
            return None
        caller = call.from_number
    result = await sender_for(runtime).send(business, caller, texts.textback(business), kind="textback")
    log_event(log, "textback.sent", sid=call_sid, to=mask_phone(caller), status=result.status)
    return result
