"""A text from a customer: carrier keywords, the quick C / R / YES replies, or a conversation.

- Carrier keywords (STOP, CANCEL, UNSUBSCRIBE, ... / START, UNSTOP / HELP, INFO) change the opt-out state
  and get no reply from us: Twilio has already answered them. That is why our texts say "Reply C to
  cancel" and not CANCEL.
- `C` asks "Cancel your Wed 2 PM visit? Reply YES" about the texter's next booking; `YES` then cancels
  it. `R` starts a reschedule. A texter only ever sees or changes bookings tied to their own number.
- Anything else goes to the conversation driver as an SMS thread (state in `SmsThread`), the texter's
  number as identity, so "can you come Thursday instead?" and booking by text work.

Replies go out through the REST API (`SmsSender`), so every one is stored with its delivery status;
the webhook itself always answers with an empty TwiML `<Response/>`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from silentpartner import sms_text as texts
from silentpartner.brains import chat_brain
from silentpartner.business import Business
from silentpartner.calendar.port import Booking, CalendarError, CalendarPort, NotFound
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import CallerSaid, CallStarted, HangUp, Say, SendSms, Transfer
from silentpartner.logs import log_event, mask_phone
from silentpartner.messaging import notifications
from silentpartner.messaging.sms import SmsTransientError, record_inbound, sender_for, set_opt_out
from silentpartner.store import jobs
from silentpartner.store.activity import StoreActivity
from silentpartner.store.models import BookingRecord, MessageRecord, OptOut, SmsThread

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.inbound")

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
YES_WORDS = frozenset({"Y", "YES", "YEP", "YEAH", "CONFIRM"})
CANCEL_WORDS = frozenset({"C"})
RESCHEDULE_WORDS = frozenset({"R"})
PENDING_TTL = timedelta(hours=1)
THREAD_IDLE_RESET = timedelta(hours=24)
CANCEL_REASON = "Cancelled by the customer by text"
RESCHEDULE_OPENER = "I need to reschedule my appointment"


@dataclass(frozen=True)
class InboundText:
    business: Business
    from_number: str
    body: str
    sid: str | None = None
    opt_out_type: str | None = None  # Twilio Advanced Opt-Out: STOP | START | HELP


def keyword(body: str) -> str:
    """The text as a keyword: upper case, without surrounding spaces and punctuation."""
    return re.sub(r"[^A-Z]", "", body.strip().upper()) if len(body.strip()) <= 16 else ""


_locks: weakref.WeakValueDictionary[tuple[int, str, str], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock(business: str, phone: str) -> asyncio.Lock:
    """One text at a time per number in this process, so a thread's state is read and written in turn.
    Keyed by event loop too (a lock belongs to one loop); unused locks are collected."""
    key = (id(asyncio.get_running_loop()), business, phone)
    lock = _locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[key] = lock
    return lock


def calendar_for(runtime: Runtime, business: Business) -> CalendarPort:
    calendar = runtime.calendars.get(business.slug)
    if calendar is None:
        from silentpartner.calendar.registry import open_calendar

        calendar = open_calendar(business, runtime)
        runtime.calendars[business.slug] = calendar
    return calendar


async def handle_text(runtime: Runtime, text: InboundText) -> list[str]:
    """Act on one inbound text; returns the replies sent (for logs and tests)."""
    async with _lock(text.business.slug, text.from_number):
        return await _handle(runtime, text)


async def _handle(runtime: Runtime, text: InboundText) -> list[str]:
    business, phone = text.business, text.from_number
    now = runtime.clock.now()
    word = keyword(text.body)
    carrier = _carrier_keyword(word, text.opt_out_type)
    async with runtime.db.session() as session:
        record = await record_inbound(
            session, business, sid=text.sid, from_number=phone, body=text.body, kind=carrier or "inbound", now=now
        )
        if record is None:
            return []  # Twilio retried the webhook: already handled
        opt = await session.get(OptOut, (business.slug, phone))
        opted_out = opt is not None and opt.opted_out
        if carrier == "opt_out":
            await set_opt_out(
                session, business.slug, phone, now=now, opted_out=True, reason=f"keyword_{word or 'STOP'}"
            )
        elif carrier == "opt_in" or (opted_out and word in YES_WORDS):
            # START / UNSTOP (and YES while opted out, which Twilio also treats as a re-subscribe).
            await set_opt_out(session, business.slug, phone, now=now, opted_out=False, reason="keyword_start")
            carrier = carrier or "opt_in"
    if carrier is not None:
        log_event(log, "sms.keyword", business=business.slug, phone=mask_phone(phone), keyword=carrier)
        return []  # Twilio already answered the keyword; a reply of ours would be blocked or doubled
    if opted_out:
        return []

    try:
        if word in CANCEL_WORDS:
            return await _ask_cancel(runtime, business, phone, now)
        if word in YES_WORDS and await _pending(runtime, business, phone, now):
            return await _confirm_pending(runtime, business, phone, now)
        if word in RESCHEDULE_WORDS:
            return await _converse(runtime, business, phone, RESCHEDULE_OPENER, now)
        return await _converse(runtime, business, phone, text.body, now)
    except Exception:
        # Nothing lost: the texter hears we will get back to them and the owner gets their words (through
        # the job queue, so the notice survives whatever just failed).
        log.exception("sms.inbound_failed")
        await _queue(
            runtime,
            business,
            business.owner_mobile,
            texts.owner_message(business, phone, text.body),
            kind="owner_message",
        )
        return [await _send(runtime, business, phone, texts.sms_failure_fallback(business))]


def _carrier_keyword(word: str, opt_out_type: str | None) -> str | None:
    kind = (opt_out_type or "").upper()
    if kind == "STOP" or word in OPT_OUT_WORDS:
        return "opt_out"
    if kind == "START" or word in OPT_IN_WORDS:
        return "opt_in"
    if kind == "HELP" or word in HELP_WORDS:
        return "help"
    return None


async def _send(
    runtime: Runtime, business: Business, phone: str, body: str, *, kind: str = "reply", booking_uid: str | None = None
) -> str:
    try:
        await sender_for(runtime).send(business, phone, body, kind=kind, booking_uid=booking_uid)
    except SmsTransientError as exc:
        # Twilio is unreachable or overloaded right now, and it won't redeliver the inbound text: the
        # reply goes to the job queue, which retries it with backoff.
        log_event(log, "sms.reply_queued", logging.WARNING, business=business.slug, to=mask_phone(phone), why=str(exc))
        await _queue(runtime, business, phone, body, kind=kind, booking_uid=booking_uid, replaces=exc.message_id)
    return body


async def _tell_owner(
    runtime: Runtime, business: Business, body: str, *, kind: str, booking_uid: str | None = None
) -> None:
    """The owner's copy (sent, held for the digest, or recorded, per their setting); queued if Twilio is down."""
    try:
        await notifications.deliver_owner_text(runtime, business, body, kind=kind, booking_uid=booking_uid)
    except SmsTransientError as exc:
        await _queue(
            runtime, business, business.owner_mobile, body, kind=kind, booking_uid=booking_uid, replaces=exc.message_id
        )


async def _queue(
    runtime: Runtime,
    business: Business,
    to: str,
    body: str,
    *,
    kind: str,
    booking_uid: str | None = None,
    replaces: int | None = None,
) -> None:
    """Hand a text to the durable `sms` job; `replaces` is the stored message that did not go out."""
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        payload = {"business": business.slug, "to": to, "body": body, "kind": kind, "booking_uid": booking_uid}
        await jobs.enqueue(session, "sms", payload, run_at=now, business=business.slug, now=now)
        if replaces is not None:
            await session.execute(
                update(MessageRecord).where(MessageRecord.id == replaces).values(status="requeued", updated_at=now)
            )


# -- C, then YES ------------------------------------------------------------------------------------


async def _own_next_booking(calendar: CalendarPort, phone: str, now: datetime) -> Booking | None:
    bookings = await calendar.bookings_for_phone(phone)
    upcoming = [b for b in bookings if b.is_active and b.phone == phone and b.end > now]
    upcoming.sort(key=lambda b: b.start)
    return upcoming[0] if upcoming else None


async def _thread(session, business: Business, phone: str, now: datetime) -> SmsThread:
    thread = await session.get(SmsThread, (business.slug, phone))
    if thread is None:
        thread = SmsThread(business=business.slug, phone=phone, state={}, pending=None, updated_at=now)
        session.add(thread)
    return thread


async def _ask_cancel(runtime: Runtime, business: Business, phone: str, now: datetime) -> list[str]:
    calendar = calendar_for(runtime, business)
    try:
        booking = await _own_next_booking(calendar, phone, now)
    except CalendarError:
        return await _calendar_down(runtime, business, phone, "wants to cancel their visit")
    if booking is None:
        return [await _send(runtime, business, phone, texts.nothing_to_cancel(business))]
    async with runtime.db.session() as session:
        thread = await _thread(session, business, phone, now)
        thread.pending = {"action": "cancel", "uid": booking.uid, "asked_at": now.isoformat()}
        thread.updated_at = now
    question = texts.confirm_cancel_question(business, texts.BookingFacts.of_booking(booking))
    return [await _send(runtime, business, phone, question, booking_uid=booking.uid)]


async def _pending(runtime: Runtime, business: Business, phone: str, now: datetime) -> dict[str, Any] | None:
    async with runtime.db.session() as session:
        thread = await session.get(SmsThread, (business.slug, phone))
        pending = thread.pending if thread is not None else None
    if not pending or pending.get("action") != "cancel":
        return None
    if now - datetime.fromisoformat(pending["asked_at"]) > PENDING_TTL:
        return None
    return pending


async def _confirm_pending(runtime: Runtime, business: Business, phone: str, now: datetime) -> list[str]:
    pending = await _pending(runtime, business, phone, now)
    async with runtime.db.session() as session:
        thread = await _thread(session, business, phone, now)
        thread.pending = None
        thread.updated_at = now
    if pending is None:
        return [await _send(runtime, business, phone, texts.cancel_question_expired())]
    calendar = calendar_for(runtime, business)
    uid = pending["uid"]
    try:
        booking = await calendar.get_booking(uid)
        if booking.phone != phone:  # identity, checked again at the moment of change
            log_event(log, "sms.cancel_refused", logging.WARNING, business=business.slug, phone=mask_phone(phone))
            return [await _send(runtime, business, phone, texts.nothing_to_cancel(business))]
        if not booking.is_active:
            return [await _send(runtime, business, phone, texts.nothing_to_cancel(business))]
        cancelled = await calendar.cancel(uid, CANCEL_REASON)
    except NotFound:
        return [await _send(runtime, business, phone, texts.nothing_to_cancel(business))]
    except CalendarError:
        return await _calendar_down(runtime, business, phone, "confirmed cancelling their visit")
    facts = texts.BookingFacts.of_booking(cancelled if cancelled.start else booking)
    body = await _send(runtime, business, phone, texts.cancelled(business, facts), kind="cancellation", booking_uid=uid)
    await _tell_owner(
        runtime,
        business,
        texts.owner_cancelled(business, replace(facts, cancellation_reason=CANCEL_REASON)),
        kind="owner_summary",
        booking_uid=uid,
    )
    return [body]


async def _calendar_down(runtime: Runtime, business: Business, phone: str, wish: str) -> list[str]:
    """The calendar did not answer: the texter hears so, and the owner gets the request to handle by hand."""
    await _tell_owner(
        runtime,
        business,
        texts.owner_message(business, phone, f"{wish} by text, but the calendar could not be reached."),
        kind="owner_message",
    )
    return [await _send(runtime, business, phone, texts.sms_failure_fallback(business))]


# -- the conversation -------------------------------------------------------------------------------


async def _converse(runtime: Runtime, business: Business, phone: str, body: str, now: datetime) -> list[str]:
    calendar = calendar_for(runtime, business)
    async with runtime.db.session() as session:
        thread = await _thread(session, business, phone, now)
        state = dict(thread.state or {})
        stale = thread.updated_at is not None and now - thread.updated_at > THREAD_IDLE_RESET
    brain = chat_brain(runtime)
    driver: ConversationDriver
    events: list[Any] = []
    # A thread saved by an older release (no "machine" in it) starts afresh rather than failing.
    resumable = bool((state.get("driver") or {}).get("machine"))
    activity = StoreActivity(runtime.db, business.slug)
    if resumable and not state.get("finished") and not stale:
        driver = ConversationDriver.from_state(
            state["driver"], business, calendar, clock=runtime.clock, brain=brain, activity=activity
        )
    else:
        driver = ConversationDriver(business, calendar, clock=runtime.clock, brain=brain, activity=activity)
        thread_id = f"SMS{uuid.uuid4().hex[:24]}"
        member = business.staff(phone)
        events.append(
            CallStarted(
                business=business.slug,
                caller=phone,
                call_id=thread_id,
                channel="sms",
                is_owner=business.is_owner(phone),
                staff=member.name if member else None,
            )
        )
    events.append(CallerSaid(text=body))

    said: list[str] = []
    outbound: list[SendSms] = []
    for event in events:
        async for action in driver.handle(event):
            if isinstance(action, Say) and action.text.strip():
                said.append(action.text.strip())
            elif isinstance(action, SendSms):
                outbound.append(action)
            elif isinstance(action, Transfer | HangUp):
                pass  # on a text thread the conversation has already texted the owner / said goodbye

    replies: list[str] = []
    if said:
        replies.append(await _send(runtime, business, phone, " ".join(said)))
    for sms in outbound:
        if sms.to == business.owner_mobile and sms.kind.startswith("owner_"):
            await _tell_owner(runtime, business, sms.body, kind=sms.kind, booking_uid=sms.booking_uid)
        elif sms.to == phone or sms.to == business.owner_mobile or await _customer_of(runtime, business, phone, sms):
            # Texts only go to this texter, the owner, or (when the owner or the team made a change) the customer
            # of that booking, whatever the conversation asks.
            await _send(runtime, business, sms.to, sms.body, kind=sms.kind, booking_uid=sms.booking_uid)
            if sms.to == phone:
                replies.append(sms.body)
        else:
            log_event(log, "sms.refused_recipient", logging.WARNING, business=business.slug, kind=sms.kind)

    async with runtime.db.session() as session:
        thread = await _thread(session, business, phone, now)
        thread.state = {"driver": driver.to_state(), "finished": driver.finished}
        thread.updated_at = now
    return replies


async def _customer_of(runtime: Runtime, business: Business, texter: str, sms: SendSms) -> bool:
    """A text to a customer about their own booking, asked for by the owner or a team member."""
    if not (business.is_owner(texter) or business.staff(texter)) or not sms.booking_uid:
        return False
    async with runtime.db.session() as session:
        row = await session.scalar(
            select(BookingRecord).where(BookingRecord.uid == sms.booking_uid, BookingRecord.business == business.slug)
        )
    return row is not None and row.attendee_phone == sms.to
