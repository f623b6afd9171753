"""The owner's note about a call that came to nothing: the caller hung up, the line went quiet, or the
call was cut off when our process died. It says who called, their number, the problem and what they
said, so the owner can call back. It follows the business's `owner_notifications` (each | digest | off).

The voice side enqueues a `call_summary` job (payload `call_sid`) once per call; this decides, at send
time, whether the note is still due (a call that booked after all gets none).

`post_call_summary` is every call's summary for the dashboard, from the same record: who called and about
what, how it ended, and what (if anything) the owner should do next.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from silentpartner import sms_text as texts
from silentpartner.business import Business
from silentpartner.conversation.wording import caller_and_problem
from silentpartner.logs import log_event
from silentpartner.messaging import notifications
from silentpartner.messaging.sms import SendResult
from silentpartner.speech_text import text_slot
from silentpartner.store.models import BookingRecord, CallRecord

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


def post_call_summary(business: Business, record: CallRecord, booking: BookingRecord | None = None) -> str:
    """One or two sentences: who called and about what, the outcome, the next step. `booking` is the one the call
    made or changed (None when it made none, or it is not in the mirror)."""
    details = record.details or {}
    number = details.get("phone") or record.from_number
    who = caller_and_problem(details.get("name"), number, details.get("problem"), details.get("address"))
    if record.is_owner:
        return f"{who}. Your own call to the assistant."
    if record.ended_at is None and record.end_reason is None and record.status in ("ringing", "in-progress"):
        return f"{who}. The call is going on now."
    return f"{who}. {_outcome_and_next_step(business, record, booking, reachable=bool(number))}"


def _outcome_and_next_step(
    business: Business, record: CallRecord, booking: BookingRecord | None, *, reachable: bool
) -> str:
    when = ""
    if booking is not None:
        what = texts.service_name(business, booking.service)
        member = f" with {booking.team_member}" if booking.team_member else ""
        when = f"{what} {text_slot(booking.start_at.astimezone(business.tz))}{member}"
    call_back = "Next: call or text them back." if reachable else "They left no number to call back."
    if record.outcome == "booked":
        return f"Booked: {when or 'a visit'}. Nothing to do until the visit."
    if record.outcome == "rescheduled":
        return f"Moved their booking to {when or 'a new time'}. Nothing to do."
    if record.outcome == "cancelled":
        return f"Cancelled their {when or 'booking'}. Nothing to do."
    if record.outcome == "transferred" or record.status == "transferred":
        if record.transfer_outcome == "connected":
            return "Put through to you, and you took the call."
        how = f" ({record.transfer_outcome})" if record.transfer_outcome else ""
        return f"Put through to you, but the transfer was not taken{how}. {call_back}"
    if record.outcome == "message" or record.message_for_owner:
        message = (record.message_for_owner or "").strip().rstrip(".")
        left = f'Left a message: "{message}".' if message else "Left a message."
        return f"{left} {call_back}"
    if record.outcome == "info":
        return "Got the answers they asked for; nothing booked. Nothing to do."
    texted = " We texted them back." if record.textback_queued else ""
    return f"Nothing booked: {how_it_ended(record)}.{texted} {call_back}"


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
    if business is None or call.is_owner or business.is_own_number(call.from_number):
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
