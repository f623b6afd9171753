"""Texts to the owner: one per booking, cancellation, message or call that came to nothing, or a daily
digest, or none, as the business chose (`owner_notifications`: each | digest | off).

In digest mode each summary is still written down (a `MessageRecord` with status `digest`), and the
`owner_digest` job sends them as one text at DIGEST_HOUR in the business timezone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from silentpartner import sms_text as texts
from silentpartner.business import Business
from silentpartner.messaging.sms import SendResult, sender_for
from silentpartner.store import jobs
from silentpartner.store.models import MessageRecord

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

# Summaries that can wait for the digest; anything else for the owner (a callback request) goes now.
SUMMARY_KINDS = frozenset({"owner_summary", "owner_message", "owner_call"})
DIGEST_HOUR = 18


async def deliver_owner_text(
    runtime: Runtime, business: Business, body: str, *, kind: str = "owner_summary", booking_uid: str | None = None
) -> SendResult | None:
    """Send (each), hold for the digest (digest) or only record (off) a summary for the owner."""
    mode = business.owner_notifications
    if kind not in SUMMARY_KINDS or mode == "each":
        return await sender_for(runtime).send(business, business.owner_mobile, body, kind=kind, booking_uid=booking_uid)
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        session.add(
            MessageRecord(
                business=business.slug,
                direction="out",
                from_number=business.main_number,
                to_number=business.owner_mobile,
                body=body,
                kind=kind,
                status="digest" if mode == "digest" else "suppressed",
                booking_uid=booking_uid,
                created_at=now,
                updated_at=now,
            )
        )
    return None


def next_digest_at(business: Business, now: datetime) -> datetime:
    local = now.astimezone(business.tz)
    at = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=business.tz)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), time(DIGEST_HOUR), tzinfo=business.tz)
    return at.astimezone(now.tzinfo)


async def schedule_digest(runtime: Runtime, business: Business) -> None:
    now = runtime.clock.now()
    run_at = next_digest_at(business, now)
    day = run_at.astimezone(business.tz).date().isoformat()
    async with runtime.db.session() as session:
        await jobs.enqueue(
            session,
            "owner_digest",
            {"business": business.slug, "day": day},
            run_at=run_at,
            business=business.slug,
            dedupe_key=f"owner_digest:{business.slug}:{day}",
            now=now,
        )


async def send_digest(runtime: Runtime, business: Business) -> SendResult | None:
    """One text with every held summary; marks them sent in the digest."""
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        held = (
            await session.scalars(
                select(MessageRecord)
                .where(MessageRecord.business == business.slug, MessageRecord.status == "digest")
                .order_by(MessageRecord.created_at, MessageRecord.id)
            )
        ).all()
        for record in held:
            record.status = "digested"
            record.updated_at = now
        lines = [record.body for record in held]
    label = now.astimezone(business.tz).strftime("%a %b ") + str(now.astimezone(business.tz).day)
    return await sender_for(runtime).send(
        business, business.owner_mobile, texts.owner_digest(business, lines, label), kind="owner_digest"
    )
