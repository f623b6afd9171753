"""Texts a conversation or the owner asked for, queued as `sms` jobs: written down before they are sent, sent by
the job worker (at once: enqueueing wakes it), retried if Twilio is unreachable."""

from __future__ import annotations

import hashlib
from datetime import datetime

from silentpartner.business import Business
from silentpartner.conversation.events import SendSms
from silentpartner.store import jobs
from silentpartner.store.db import Database

MAX_KEY = 200  # the width of jobs.dedupe_key


async def queue_texts(db: Database, business: Business, texts: list[SendSms], *, now: datetime, origin: str) -> int:
    """Queue `texts` in one transaction. `origin` names what asked (with the booking uid and the text's kind it
    makes each one's dedupe key), so asking twice queues once. Returns how many were queued."""
    queued = 0
    async with db.session() as session:
        for sms in texts:
            payload = {
                "business": business.slug,
                "to": sms.to,
                "body": sms.body,
                "kind": sms.kind,
                "booking_uid": sms.booking_uid,
            }
            dedupe = _dedupe_key(f"{origin}:{sms.kind}:{sms.booking_uid}") if sms.booking_uid else None
            job = await jobs.enqueue(
                session, "sms", payload, run_at=now, business=business.slug, dedupe_key=dedupe, now=now
            )
            queued += job is not None
    return queued


def _dedupe_key(text: str) -> str:
    key = f"sms:{text}"
    return key if len(key) <= MAX_KEY else "sms:" + hashlib.sha256(text.encode()).hexdigest()
