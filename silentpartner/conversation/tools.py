"""The tools a conversation runs against the calendar, and the code that runs them.

The machine asks for a tool with a `RunTool` action; the driver calls `ToolRunner.run` and feeds the
result back as a `ToolResult`. Results are plain JSON-able dicts. Ownership is checked here a second
time (the machine checks first): a booking is only changed when its phone equals the caller's number.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from silentpartner.business import Business
from silentpartner.calendar.availability import MAX_OFFERS, choose_offers, earliest, nearest
from silentpartner.calendar.port import Booking, BookingRequest, CalendarPort, NotFound, Slot, SlotUnavailable
from silentpartner.conversation.owner_tools import ActivityLog, OwnerTools
from silentpartner.conversation.shapes import NEAREST_DAYS, booking_to_dict, slot_from_dict, slot_to_dict, unavailable


def _round_robin(groups: list[list[Slot]], limit: int) -> list[Slot]:
    """Take from each group in turn (each day the caller offered gets a time), in time order, no repeats."""
    picked: list[Slot] = []
    seen: set[datetime] = set()
    for rank in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if rank < len(group) and group[rank].start not in seen and len(picked) < limit:
                picked.append(group[rank])
                seen.add(group[rank].start)
    return sorted(picked, key=lambda s: s.start)


class ToolRunner:
    """Runs the machine's tool requests against a CalendarPort (and, for the owner, the activity log)."""

    def __init__(self, calendar: CalendarPort, business: Business, activity: ActivityLog | None = None) -> None:
        self.calendar = calendar
        self.business = business
        self.owner = OwnerTools(calendar, business, activity)

    async def run(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        owner_tool = getattr(self.owner, name, None) if name.startswith("owner_") else None
        if owner_tool is not None:
            return await owner_tool(**args)
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return {"error": f"unknown tool {name}"}
        return await handler(**args)

    async def _find_slots(
        self,
        service: str,
        windows: list[dict[str, Any]],
        reschedule_uid: str | None = None,
        not_before: str | None = None,
        release_hold: str | None = None,
    ) -> dict[str, Any]:
        """Up to three times for what the caller asked: in each window asked ("Monday or Tuesday"), the exact
        time if free, else the nearest that day, else the earliest after; `nearest` says the times differ."""
        if release_hold:  # the caller moved on from a held time: free it so it can be offered again
            await self._release_quietly(release_hold)
        floor = datetime.fromisoformat(not_before) if not_before else None
        per_window: list[list[Slot]] = []
        nearest_only = True
        for window in windows:
            found, exact_hit = await self._in_window(service, window, floor, reschedule_uid)
            per_window.append(found)
            nearest_only = nearest_only and not exact_hit
        offers = _round_robin(per_window, MAX_OFFERS)
        if offers:
            return {"slots": [slot_to_dict(s) for s in offers], "nearest": nearest_only}
        # Nothing in any window: the earliest openings after the last of them.
        after = max(datetime.fromisoformat(w["end"]) for w in windows)
        if floor is not None:
            after = max(after, floor)
        later = await self.calendar.find_slots(
            service, after, after + timedelta(days=NEAREST_DAYS), reschedule_uid=reschedule_uid
        )
        return {"slots": [slot_to_dict(s) for s in earliest(later)], "nearest": True}

    async def _in_window(
        self, service: str, window: dict[str, Any], floor: datetime | None, reschedule_uid: str | None
    ) -> tuple[list[Slot], bool]:
        """(the offers for one window, whether they are what was asked)."""
        begin, finish = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
        if floor is not None:
            begin = max(begin, floor)
        if window.get("exact"):
            # Look at the whole day around an exact time, so a taken 2 PM offers 1 or 3 that day.
            day = begin.astimezone(self.business.tz).replace(hour=0, minute=0, second=0, microsecond=0)
            lowest = max(day, floor) if floor else day
            found = await self.calendar.find_slots(
                service, lowest, day + timedelta(days=1), reschedule_uid=reschedule_uid
            )
            hit = next((s for s in found if s.start == begin), None)
            if hit is not None:
                return [hit], True
            return nearest(found, begin), False
        if finish <= begin:
            return [], False
        found = await self.calendar.find_slots(service, begin, finish, reschedule_uid=reschedule_uid)
        if window.get("asap"):
            return earliest(found), bool(found)
        return choose_offers(found, begin, finish), bool(found)

    async def _hold_slot(
        self, slot: dict[str, Any], holder: str | None = None, release_hold: str | None = None
    ) -> dict[str, Any]:
        if release_hold:
            await self._release_quietly(release_hold)
        try:
            hold = await self.calendar.hold(slot_from_dict(slot), holder=holder)
        except SlotUnavailable as exc:
            return await unavailable(self.calendar, slot, exc)
        return {"hold_id": hold.id, "expires_at": hold.expires_at.isoformat()}

    async def _release_hold(self, hold_id: str) -> dict[str, Any]:
        await self.calendar.release(hold_id)
        return {"released": True}

    async def _release_quietly(self, hold_id: str) -> None:
        try:
            await self.calendar.release(hold_id)
        except NotFound:
            pass  # it had already lapsed

    async def _book(
        self,
        slot: dict[str, Any],
        name: str,
        phone: str,
        address: str | None = None,
        notes: str | None = None,
        email: str | None = None,
        hold_id: str | None = None,
        call_id: str | None = None,
        source: str = "call",
    ) -> dict[str, Any]:
        request = BookingRequest(
            service=slot["service"],
            start=datetime.fromisoformat(slot["start"]),
            name=name,
            phone=phone,
            email=email,
            address=address,
            notes=notes,
            team_member=slot.get("team_member"),
            hold_id=hold_id,
            call_id=call_id,
            source=source,
        )
        try:
            booking = await self.calendar.book(request)
        except SlotUnavailable as exc:
            return await unavailable(self.calendar, slot, exc)
        return {"booking": booking_to_dict(booking, self.business)}

    async def _owned(self, uid: str, phone: str) -> Booking | None:
        try:
            booking = await self.calendar.get_booking(uid)
        except NotFound:
            return None
        return booking if booking.phone == phone and booking.is_active else None

    async def _my_bookings(self, phone: str) -> dict[str, Any]:
        bookings = await self.calendar.bookings_for_phone(phone)
        return {"bookings": [booking_to_dict(b, self.business) for b in bookings if b.phone == phone and b.is_active]}

    async def _cancel(self, uid: str, phone: str, reason: str = "cancelled by the caller") -> dict[str, Any]:
        if await self._owned(uid, phone) is None:
            return {"refused": "that booking does not belong to this caller"}
        booking = await self.calendar.cancel(uid, reason)
        return {"booking": booking_to_dict(booking, self.business)}

    async def _reschedule(
        self, uid: str, phone: str, slot: dict[str, Any], hold_id: str | None = None
    ) -> dict[str, Any]:
        if await self._owned(uid, phone) is None:
            return {"refused": "that booking does not belong to this caller"}
        try:
            booking = await self.calendar.reschedule(
                uid, datetime.fromisoformat(slot["start"]), reason="moved by the caller", hold_id=hold_id
            )
        except SlotUnavailable as exc:
            return await unavailable(self.calendar, slot, exc)
        return {"booking": booking_to_dict(booking, self.business)}
