"""The tools a conversation runs against the calendar, and the code that runs them.

The engine asks for a tool with a `RunTool` action; the driver calls `ToolRunner.run` and feeds the
result back as a `ToolResult`. Results are plain JSON-able dicts. Ownership is checked here a second
time (the engine checks first): a booking is only changed when its phone equals the caller's number.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from silentpartner.business import Business
from silentpartner.calendar.port import Booking, BookingRequest, CalendarPort, NotFound, Slot, SlotUnavailable

MAX_OFFERS = 3
NEAREST_DAYS = 14  # how far to look for the nearest alternatives when the asked-for time is full


def slot_to_dict(slot: Slot) -> dict[str, Any]:
    return {
        "calendar_id": slot.id,
        "service": slot.service,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "team_member": slot.team_member,
    }


def slot_from_dict(data: dict[str, Any]) -> Slot:
    return Slot(
        id=data["calendar_id"],
        service=data["service"],
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        team_member=data.get("team_member"),
    )


def booking_to_dict(booking: Booking, business: Business) -> dict[str, Any]:
    """The outcome shape: times in ISO 8601 with the business offset, phone in E.164."""
    tz = business.tz
    return {
        "uid": booking.uid,
        "service": booking.service,
        "start": booking.start.astimezone(tz).isoformat(),
        "end": booking.end.astimezone(tz).isoformat(),
        "name": booking.name,
        "phone": booking.phone,
        "address": booking.address,
        "notes": booking.notes,
        "team_member": booking.team_member,
        "payment_link": booking.payment_link,
    }


def _spread(slots: list[Slot], anchor: datetime | None = None) -> list[Slot]:
    """Up to three distinct starts, preferring ones near `anchor` and at least an hour apart."""
    seen: set[datetime] = set()
    unique = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            unique.append(slot)
    if anchor is not None:
        unique.sort(key=lambda s: (abs((s.start - anchor).total_seconds()), s.start))
    picked: list[Slot] = []
    for slot in unique:
        if all(abs(slot.start - p.start) >= timedelta(hours=1) for p in picked):
            picked.append(slot)
        if len(picked) == MAX_OFFERS:
            break
    for slot in unique:  # not enough well-spaced ones: fill with the rest
        if len(picked) == MAX_OFFERS:
            break
        if slot not in picked:
            picked.append(slot)
    return sorted(picked, key=lambda s: s.start)


class ToolRunner:
    """Runs the engine's tool requests against a CalendarPort."""

    def __init__(self, calendar: CalendarPort, business: Business) -> None:
        self.calendar = calendar
        self.business = business

    async def run(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return {"error": f"unknown tool {name}"}
        return await handler(**args)

    async def _find_slots(
        self,
        service: str,
        start: str,
        end: str,
        exact: bool = False,
        reschedule_uid: str | None = None,
        not_before: str | None = None,
        release_hold: str | None = None,
    ) -> dict[str, Any]:
        if release_hold:  # the caller moved on from a held time: free it so it can be offered again
            await self._release_quietly(release_hold)
        begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
        if not_before is not None:
            begin = max(begin, datetime.fromisoformat(not_before))
        if exact:
            # Look at the whole day around an exact time, so a taken 2 PM offers 1 or 3 that day.
            day = begin.astimezone(self.business.tz).replace(hour=0, minute=0, second=0, microsecond=0)
            floor = datetime.fromisoformat(not_before) if not_before else day
            found = await self.calendar.find_slots(
                service, max(day, floor), day + timedelta(days=1), reschedule_uid=reschedule_uid
            )
            if any(s.start == begin for s in found):
                return {"slots": [slot_to_dict(next(s for s in found if s.start == begin))], "nearest": False}
            if found:
                return {"slots": [slot_to_dict(s) for s in _spread(found, anchor=begin)], "nearest": True}
        elif finish > begin:
            found = await self.calendar.find_slots(service, begin, finish, reschedule_uid=reschedule_uid)
            if found:
                return {"slots": [slot_to_dict(s) for s in _spread(found)], "nearest": False}
        # Nothing in the window: the nearest openings after it.
        later = await self.calendar.find_slots(
            service,
            max(begin, finish),
            max(begin, finish) + timedelta(days=NEAREST_DAYS),
            reschedule_uid=reschedule_uid,
        )
        return {"slots": [slot_to_dict(s) for s in _spread(later)], "nearest": True}

    async def _hold_slot(
        self, slot: dict[str, Any], holder: str | None = None, release_hold: str | None = None
    ) -> dict[str, Any]:
        if release_hold:
            await self._release_quietly(release_hold)
        try:
            hold = await self.calendar.hold(slot_from_dict(slot), holder=holder)
        except SlotUnavailable as exc:
            return await self._unavailable(slot, exc)
        return {"hold_id": hold.id, "expires_at": hold.expires_at.isoformat()}

    async def _release_hold(self, hold_id: str) -> dict[str, Any]:
        await self.calendar.release(hold_id)
        return {"released": True}

    async def _release_quietly(self, hold_id: str) -> None:
        try:
            await self.calendar.release(hold_id)
        except NotFound:
            pass  # it had already lapsed

    async def _unavailable(self, slot: dict[str, Any], exc: SlotUnavailable) -> dict[str, Any]:
        alternatives = exc.alternatives
        if not alternatives:
            start = datetime.fromisoformat(slot["start"])
            later = await self.calendar.find_slots(slot["service"], start, start + timedelta(days=NEAREST_DAYS))
            alternatives = _spread([s for s in later if s.start != start][:12])
        return {"unavailable": True, "alternatives": [slot_to_dict(s) for s in alternatives[:MAX_OFFERS]]}

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
            return await self._unavailable(slot, exc)
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
            return await self._unavailable(slot, exc)
        return {"booking": booking_to_dict(booking, self.business)}

    async def _owner_schedule(self, start: str, end: str) -> dict[str, Any]:
        bookings = await self.calendar.bookings_between(datetime.fromisoformat(start), datetime.fromisoformat(end))
        ordered = sorted(bookings, key=lambda b: b.start)
        return {"day": start, "bookings": [booking_to_dict(b, self.business) for b in ordered]}
