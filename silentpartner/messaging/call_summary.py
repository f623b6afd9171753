"""The owner's note about a call that came to nothing: the caller hung up, the line went quiet, or the
call was cut off when our process died. It says who called, their number, the problem and what they
said, so the owner can call back. It follows the business's `owner_notifications` (each | digest | off).

The voice side enqueues a `call_summary` job (payload `call_sid`) once per call; this decides, at send
time, whether the note is still due (a call that booked after all gets none).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from silentpartner import sms_text as texts
from silentpartner.logs import log_event
from silentpartner.messaging import notifications
from silentpartner.messaging.sms import SendResult
from silentpartner.store.models import CallRecord

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.call_summary")
SETTLED = frozenset({"booked", "rescheduled", "cancelled", "message", "transferred"})
MAX_LINES = 6  # the caller's first lines: where the name and the problem are


def how_it_ended(record: CallRecord) -> str:
    """The end of the call in the owner's words, from the live call's end reason or Twilio's status."""
    reason = record.end_reason or ""
    if reason == "cut off":
        return "the call was cut off on our side"
    if reason in ("socket closed", "stream stopped"):
        return "they hung up"
    if reason == "hangup:silence":
        return "the line went quiet"
    if reason.startswith("hangup:"):
        return "the call ended"
    if reason:
        return "the call dropped"
    if record.status in ("unavailable", "speech-unavailable"):
        return "our assistant was unavailable"
    if record.status in ("busy", "failed", "no-answer", "canceled"):
        return "the call did not connect"
    return "they hung up before we could talk"


def caller_lines(transcript: list[Any]) -> list[str]:
    lines = [
        str(entry.get("text", ""))
        for entry in transcript
        if isinstance(entry, dict) and entry.get("role") == "caller" and not entry.get("keys")
    ]
    return [line for line in lines if line.strip()][:MAX_LINES]


async def send_call_summary(runtime: Runtime, call_sid: str) -> SendResult | None:
    """Tell the owner about `call_sid` if it came to nothing. None when no note is due or it was held."""
    async with runtime.db.session() as session:
        call = await session.scalar(select(CallRecord).where(CallRecord.sid == call_sid))
    if call is None:
        log_event(log, "call_summary.unknown_call", logging.WARNING, sid=call_sid)
        return None
    business = runtime.businesses.by_slug(call.business)
    if business is None or call.is_owner:
        return None
    if call.outcome in SETTLED or call.booking_uid or call.message_for_owner:
        return None
    details = call.details or {}
    body = texts.owner_call_summary(
        business,
        caller=details.get("phone") or call.from_number,
        name=details.get("name"),
        how_it_ended=how_it_ended(call),
        problem=details.get("problem"),
        address=details.get("address"),
        said=caller_lines(call.transcript or []),
    )
    result = await notifications.deliver_owner_text(runtime, business, body, kind="owner_call")
    log_event(log, "call_summary.done", sid=call_sid, mode=business.owner_notifications)
    return result
