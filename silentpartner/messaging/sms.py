"""Texts out, through the Twilio REST API (async client), every one written down with its status.

A message is stored (`MessageRecord`) before it is handed to Twilio and updated with what Twilio said.
A number that opted out (STOP, or Twilio's 21610) is never texted; a number Twilio says cannot take
texts (21614 / 21635, a landline) is marked so and the owner is told once. Without Twilio configured
the product still runs: messages are stored with status `not_sent` and logged.

Transient failures (network, Twilio 5xx/429) raise `SmsTransientError`, so the `sms` job retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.base.exceptions import TwilioRestException

from silentpartner import metrics
from silentpartner.business import Business
from silentpartner.clock import Clock
from silentpartner.logs import log_event, mask_phone
from silentpartner.phones import try_e164
from silentpartner.settings import Settings
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, MessageRecord, OptOut
from silentpartner.twilio_api import make_twilio_client

log = logging.getLogger("silentpartner.messaging.sms")

STATUS_CALLBACK_PATH = "/twilio/sms-status"
UNSUBSCRIBED = 21610
NOT_MOBILE = (21614, 21635)
INVALID_NUMBER = 21211


class SmsTransientError(Exception):
    """Twilio could not be reached or answered 5xx/429: try again later. `message_id` is the stored
    message that did not go out."""

    def __init__(self, reason: str, message_id: int | None = None) -> None:
        super().__init__(reason)
        self.message_id = message_id


@dataclass(frozen=True)
class SendResult:
    status: str  # queued | accepted | sent | not_sent | blocked | failed
    message_id: int
    sid: str | None = None
    error_code: int | None = None


async def textable(session: AsyncSession, business: str, phone: str) -> tuple[bool, str | None]:
    """(may we text this number, why not)."""
    row = await session.get(OptOut, (business, phone))
    if row is None:
        return True, None
    if row.opted_out:
        return False, "opted_out"
    if not row.textable:
        return False, row.reason or "not_textable"
    return True, None


async def set_opt_out(
    session: AsyncSession,
    business: str,
    phone: str,
    *,
    now: datetime,
    opted_out: bool | None = None,
    textable: bool | None = None,
    reason: str | None = None,
) -> OptOut:
    row = await session.get(OptOut, (business, phone))
    if row is None:
        row = OptOut(business=business, phone=phone, opted_out=False, textable=True, updated_at=now)
        session.add(row)
    if opted_out is not None:
        row.opted_out = opted_out
    if textable is not None:
        row.textable = textable
    if reason is not None:
        row.reason = reason
    row.updated_at = now
    await session.flush()
    return row


class SmsSender:
    """One per process (`runtime.sms`); the Twilio client is made on first use in the running loop."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, businesses: Any | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.businesses = businesses
        self._client: Any | None = None
        self._client_made = False

    @property
    def status_callback(self) -> str:
        return self.settings.public_url + STATUS_CALLBACK_PATH

    def _twilio(self) -> Any | None:
        if not self._client_made:
            self._client = make_twilio_client(self.settings)
            self._client_made = True
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            http = self._client.http_client
            if hasattr(http, "close"):
                await http.close()
        self._client = None
        self._client_made = False

    async def send(
        self,
        business: Business,
        to: str,
        body: str,
        *,
        kind: str = "reply",
        booking_uid: str | None = None,
        tell_owner_on_failure: bool = True,
    ) -> SendResult:
        now = self.clock.now()
        number = try_e164(to)
        async with self.db.session() as session:
            allowed, why = (
                (False, "invalid_number") if number is None else await textable(session, business.slug, number)
            )
            record = MessageRecord(
                business=business.slug,
                direction="out",
                from_number=business.main_number,
                to_number=number or to,
                body=body,
                kind=kind,
                status="sending" if allowed else "blocked",
                booking_uid=booking_uid,
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            if allowed and kind == "confirmation" and booking_uid:
                # Claimed before sending: a webhook for the same booking will not send a second one.
                await session.execute(
                    update(BookingRecord)
                    .where(BookingRecord.uid == booking_uid, BookingRecord.confirmation_sent_at.is_(None))
                    .values(confirmation_sent_at=now)
                )
            await session.flush()
            record_id = record.id
        if not allowed:
            metrics.current().sms("blocked")
            log_event(log, "sms.blocked", business=business.slug, to=mask_phone(to), kind=kind, why=why)
            return SendResult(status="blocked", message_id=record_id)

        client = self._twilio()
        if client is None:
            await self._update(record_id, status="not_sent")
            log_event(log, "sms.not_sent", business=business.slug, to=mask_phone(number), kind=kind, body=body)
            return SendResult(status="not_sent", message_id=record_id)

        params: dict[str, Any] = {"to": number, "body": body, "status_callback": self.status_callback}
        if business.messaging_service_sid:
            params["messaging_service_sid"] = business.messaging_service_sid
        else:
            params["from_"] = business.main_number
        try:
            message = await client.messages.create_async(**params)
        except TwilioRestException as exc:
            return await self._failed(business, number, record_id, exc, kind, tell_owner_on_failure)
        except Exception as exc:  # network trouble: the job runner retries
            await self._update(record_id, status="retrying")
            raise SmsTransientError(f"twilio unreachable: {exc!r}", record_id) from exc
        status = str(message.status or "queued")
        await self._update(record_id, status=status, sid=message.sid)
        log_event(log, "sms.sent", business=business.slug, to=mask_phone(number), kind=kind, sid=message.sid)
        return SendResult(status=status, message_id=record_id, sid=message.sid)

    async def _failed(
        self, business: Business, number: str, record_id: int, exc: TwilioRestException, kind: str, tell_owner: bool
    ) -> SendResult:
        code = int(exc.code) if exc.code is not None else None
        if exc.status >= 500 or exc.status == 429:
            await self._update(record_id, status="retrying", error_code=code)
            raise SmsTransientError(f"twilio {exc.status} {code}", record_id) from exc
        now = self.clock.now()
        notify_owner = False
        async with self.db.session() as session:
            if code == UNSUBSCRIBED:
                await set_opt_out(session, business.slug, number, now=now, opted_out=True, reason="twilio_21610")
            elif code in NOT_MOBILE or code == INVALID_NUMBER:
                row = await session.get(OptOut, (business.slug, number))
                notify_owner = row is None or row.textable
                reason = "landline" if code in NOT_MOBILE else "invalid_number"
                await set_opt_out(session, business.slug, number, now=now, textable=False, reason=reason)
        await self._update(record_id, status="failed", error_code=code)
        log_event(
            log, "sms.failed", logging.WARNING, business=business.slug, to=mask_phone(number), kind=kind, code=code
        )
        if notify_owner and tell_owner and number != business.owner_mobile:
            from silentpartner import sms_text as texts

            why = "it looks like a landline" if code in NOT_MOBILE else "the number is not valid"
            await self.send(
                business,
                business.owner_mobile,
                texts.owner_not_textable(business, number, why),
                kind="owner_summary",
                tell_owner_on_failure=False,
            )
        return SendResult(status="failed", message_id=record_id, error_code=code)

    async def _update(self, record_id: int, **values: Any) -> None:
        values["updated_at"] = self.clock.now()
        async with self.db.session() as session:
            await session.execute(update(MessageRecord).where(MessageRecord.id == record_id).values(**values))
        metrics.current().sms(values.get("status"))


async def record_inbound(
    session: AsyncSession, business: Business, *, sid: str | None, from_number: str, body: str, kind: str, now: datetime
) -> MessageRecord | None:
    """Store an inbound text once (Twilio may retry a webhook): None when this sid was seen before."""
    if sid:
        seen = await session.scalar(select(MessageRecord.id).where(MessageRecord.sid == sid))
        if seen is not None:
            return None
    record = MessageRecord(
        sid=sid,
        business=business.slug,
        direction="in",
        from_number=from_number,
        to_number=business.main_number,
        body=body,
        kind=kind,
        status="received",
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    await session.flush()
    return record


def sender_for(runtime: Any) -> SmsSender:
    """The process's sender (`runtime.sms`), made on first use. `runtime` is a Runtime, not imported here:
    runtime.py types its `sms` field with this module's SmsSender."""
    if runtime.sms is None:
        runtime.sms = SmsSender(runtime.settings, runtime.db, runtime.clock, runtime.businesses)
    return runtime.sms
