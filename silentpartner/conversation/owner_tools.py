"""The tools the owner's assistant runs: the day's jobs, moving and cancelling any job (a team member: their
own), time off, and what happened on the line (calls, new bookings) from the activity log.

The conversation checks identity (owner or team, the PIN by phone) before it asks for any of these; the tools
check a team member's scope a second time against what the calendar says, as the caller tools check the
caller's number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from silentpartner.business import Business
from silentpartner.calendar.port import Booking, CalendarPort, NotFound, SlotUnavailable
from silentpartner.conversation.shapes import booking_to_dict, unavailable


class ActivityLog(Protocol):
    """What happened on the business's line, for the owner: calls (who, when, what they wanted, how it
    ended) and bookings made since a time. Implemented over the store by the channels."""

    async def calls_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]: ...

    async def bookings_made_since(self, since: datetime) -> list[dict[str, Any]]: ...


class OwnerTools:
    def __init__(self, calendar: CalendarPort, business: Business, activity: ActivityLog | None) -> None:
        self.calendar = calendar
        self.business = business
        self.activity = activity

    async def _scoped(self, uid: str, member: str | None) -> Booking | None:
        """The booking, when it is active and (for a team member) theirs."""
        try:
            booking = await self.calendar.get_booking(uid)
        except NotFound:
            return None
        if not booking.is_active or (member is not None and booking.team_member != member):
            return None
        return booking

    async def owner_schedule(self, start: str, end: str, member: str | None = None) -> dict[str, Any]:
        bookings = await self.calendar.bookings_between(datetime.fromisoformat(start), datetime.fromisoformat(end))
        mine = [b for b in bookings if b.is_active and (member is None or b.team_member == member)]
        ordered = sorted(mine, key=lambda b: b.start)
        return {"day": start, "bookings": [booking_to_dict(b, self.business) for b in ordered]}

    async def owner_reschedule(
        self, uid: str, slot: dict[str, Any], member: str | None = None, hold_id: str | None = None
    ) -> dict[str, Any]:
        if await self._scoped(uid, member) is None:
            return {"refused": "that job is not on the calendar, or not yours"}
        try:
            booking = await self.calendar.reschedule(
                uid, datetime.fromisoformat(slot["start"]), reason="moved by the owner", hold_id=hold_id
            )
        except SlotUnavailable as exc:
            return await unavailable(self.calendar, slot, exc)
        return {"booking": booking_to_dict(booking, self.business)}

    async def owner_cancel(self, uid: str, member: str | None = None) -> dict[str, Any]:
        if await self._scoped(uid, member) is None:
            return {"refused": "that job is not on the calendar, or not yours"}
        booking = await self.calendar.cancel(uid, "cancelled by the owner")
        return {"booking": booking_to_dict(booking, self.business)}

    async def owner_block(self, start: str, end: str, member: str | None, reason: str) -> dict[str, Any]:
        await self.calendar.block(
            datetime.fromisoformat(start), datetime.fromisoformat(end), team_member=member, reason=reason
        )
        return {"blocked": True}

    async def owner_reopen(self, start: str, end: str, member: str | None) -> dict[str, Any]:
        changed = await self.calendar.reopen(
            datetime.fromisoformat(start), datetime.fromisoformat(end), team_member=member
        )
        return {"reopened": changed}

    async def owner_calls(self, start: str, end: str) -> dict[str, Any]:
        if self.activity is None:
            return {"error": "no call log here"}
        calls = await self.activity.calls_between(datetime.fromisoformat(start), datetime.fromisoformat(end))
        return {"calls": calls}

    async def owner_news(self, since: str, until: str, member: str | None = None) -> dict[str, Any]:
        if self.activity is None:
            return {"error": "no call log here"}
        moment = datetime.fromisoformat(since)
        made = await self.activity.bookings_made_since(moment)
        if member is not None:
            made = [b for b in made if b.get("team_member") == member]
        calls = await self.activity.calls_between(moment, datetime.fromisoformat(until))
        return {"since": since, "bookings": made, "calls": calls}
