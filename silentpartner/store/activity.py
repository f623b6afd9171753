"""What happened on a business's line, for the owner's assistant: calls (who, what they wanted, how it ended)
and bookings made since a time. The conversation asks through its `ActivityLog` protocol; this answers from the
store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, CallRecord

ACTIVE = ("accepted", "pending", "awaiting_payment")
_SAID_LIMIT = 3  # caller lines kept per call for the owner


class StoreActivity:
    def __init__(self, db: Database, business: str) -> None:
        self.db = db
        self.business = business

    async def calls_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Customers' calls in [start, end), oldest first (the owner's own calls are not news to them)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(CallRecord)
                .where(
                    CallRecord.business == self.business,
                    CallRecord.is_owner.is_(False),
                    CallRecord.channel != "sms",  # a simulated text thread is not a call
                    CallRecord.started_at >= start,
                    CallRecord.started_at < end,
                )
                .order_by(CallRecord.started_at)
            )
            return [_call(row) for row in rows]

    async def bookings_made_since(self, since: datetime) -> list[dict[str, Any]]:
        """Bookings made (by a call, a text, Cal.com or by hand) at or after `since`, still on."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(BookingRecord)
                .where(
                    BookingRecord.business == self.business,
                    BookingRecord.created_at >= since,
                    BookingRecord.status.in_(ACTIVE),
                )
                .order_by(BookingRecord.created_at)
            )
            return [
                {
                    "uid": row.uid,
                    "service": row.service,
                    "start": row.start_at.isoformat(),
                    "name": row.attendee_name,
                    "phone": row.attendee_phone,
                    "team_member": row.team_member,
                    "source": row.source,
                    "created_at": row.created_at.isoformat(),
                }
                for row in rows
            ]


def _call(row: CallRecord) -> dict[str, Any]:
    details = row.details or {}
    said = [t.get("text", "") for t in (row.transcript or []) if t.get("role") == "caller"][:_SAID_LIMIT]
    return {
        "sid": row.sid,
        "from": row.from_number,
        "started_at": row.started_at.isoformat(),
        "outcome": row.outcome,
        "name": details.get("name"),
        "problem": details.get("problem"),
        "message": row.message_for_owner,
        "said": said,
    }
