"""The plain JSON-able shapes the conversation's tools return: slots and bookings as dicts, and the "that time
was just taken" answer with the next times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from silentpartner.business import Business
from silentpartner.calendar.availability import MAX_OFFERS, nearest
from silentpartner.calendar.port import Booking, CalendarPort, Slot, SlotUnavailable
from silentpartner.conversation.memory import OfferedSlot

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


async def unavailable(calendar: CalendarPort, slot: dict[str, Any], exc: SlotUnavailable) -> dict[str, Any]:
    """A time taken under us: say so, with the nearest other times (the calendar's, or found here)."""
    alternatives = exc.alternatives
    if not alternatives:
        start = datetime.fromisoformat(slot["start"])
        later = await calendar.find_slots(slot["service"], start, start + timedelta(days=NEAREST_DAYS))
        alternatives = nearest([s for s in later if s.start != start], start)
    return {"unavailable": True, "alternatives": [slot_to_dict(s) for s in alternatives[:MAX_OFFERS]]}


def slot_args(slot: OfferedSlot) -> dict[str, Any]:
    """A slot offered in a conversation, as the calendar tools take it."""
    return {
        "calendar_id": slot.calendar_id,
        "service": slot.service,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "team_member": slot.team_member,
    }
