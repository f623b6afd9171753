"""What the machine does with a tool's result: opaque ids for the slots offered, the hold, the caller's own
bookings, the outcome of a booking change and the texts it sends, and what a chat brain is told."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from silentpartner import sms_text
from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.change_texts import Change, booking_facts, customer_texts
from silentpartner.conversation.events import Action, Outcome, SendSms
from silentpartner.conversation.memory import KnownBooking, OfferedSlot

OUTCOME_BOOKING_KEYS = ("uid", "service", "start", "end", "name", "phone", "address", "notes", "team_member")


def register_slots(machine: Capabilities, slots: list[dict[str, Any]]) -> list[str]:
    """Give each offered slot an opaque id that only means something in this conversation."""
    m = machine.memory
    ids = []
    for slot in slots:
        start = datetime.fromisoformat(slot["start"])
        existing = next((o.id for o in m.offered.values() if o.start == start and o.service == slot["service"]), None)
        if existing:
            ids.append(existing)
            continue
        m.slot_seq += 1
        digest = hashlib.sha256(f"{m.call_id}:{m.slot_seq}:{slot['calendar_id']}".encode()).hexdigest()[:6]
        slot_id = f"s{m.slot_seq}{digest}"
        m.offered[slot_id] = OfferedSlot(
            id=slot_id,
            calendar_id=slot["calendar_id"],
            service=slot["service"],
            start=start,
            end=datetime.fromisoformat(slot["end"]),
            team_member=slot.get("team_member"),
            label=machine.label(start),
        )
        ids.append(slot_id)
    m.last_offer = ids
    return ids


def absorb(machine: Capabilities, name: str, result: dict[str, Any]) -> list[Action]:
    """Take in a successful result; the texts a booking change sends come back as actions."""
    m = machine.memory
    if "slots" in result:
        register_slots(machine, result["slots"])
    if result.get("unavailable"):
        if m.chosen:
            m.offered.pop(m.chosen, None)
        m.chosen, m.hold_id = None, None
        m.readback_for, m.readback_yes = None, False
        register_slots(machine, result.get("alternatives", []))
        return []
    if name == "hold_slot" and "hold_id" in result:
        m.hold_id = result["hold_id"]
    if name == "my_bookings":
        m.bookings = [
            KnownBooking(
                uid=b["uid"],
                service=b["service"],
                start=datetime.fromisoformat(b["start"]),
                end=datetime.fromisoformat(b["end"]),
                label=machine.label(datetime.fromisoformat(b["start"])),
                name=b.get("name"),
                address=b.get("address"),
            )
            for b in result.get("bookings", [])
            if b.get("phone") == m.caller
        ]
        m.bookings_loaded = True
    if name == "owner_schedule" and m.outcome.action == "none":
        m.outcome = Outcome(action="info")
    booking = result.get("booking")
    if booking and name in ("book", "reschedule", "cancel", "owner_reschedule", "owner_cancel"):
        return booking_changed(machine, name.removeprefix("owner_"), booking)
    return []


def booking_changed(machine: Capabilities, name: str, booking: dict[str, Any]) -> list[Action]:
    m = machine.memory
    business = machine.business
    action = {"book": "booked", "reschedule": "rescheduled", "cancel": "cancelled"}[name]
    m.outcome = Outcome(action=action, booking={k: booking.get(k) for k in OUTCOME_BOOKING_KEYS})  # type: ignore[arg-type]
    m.readback_for, m.readback_yes, m.hold_id = None, False, None
    m.chosen, m.windows, m.target_uid = None, (), None  # a second request in the same call starts clean
    m.bookings_loaded = False  # the caller's list changed; look it up again when next needed
    to = booking.get("phone") or m.caller
    facts = booking_facts(booking, to=to)
    change: Change = name  # type: ignore[assignment]
    actions: list[Action] = [*customer_texts(business, change, booking, to=to, owner_name=machine.owner_name)]
    if m.is_owner:
        return actions  # the owner made this change: no summary back to them
    if name == "cancel":
        owner_note = sms_text.owner_cancelled(business, facts, staff=m.staff)
    elif name == "reschedule":
        owner_note = sms_text.owner_rescheduled(business, facts, staff=m.staff)
    else:
        source = "sms" if machine.is_sms else "call"
        owner_note = sms_text.owner_booking(business, facts, source=source, staff=m.staff)
    actions.append(SendSms(to=business.owner_mobile, body=owner_note, kind="owner_summary", booking_uid=facts.uid))
    return actions


def for_brain(machine: Capabilities, name: str, result: dict[str, Any]) -> dict[str, Any]:
    """What a chat brain is told: opaque slot ids with labels, never the calendar's own ids."""
    m = machine.memory
    if "slots" in result or result.get("unavailable"):
        out: dict[str, Any] = {
            "slots": [{"slot_id": i, "label": m.offered[i].label} for i in m.last_offer if i in m.offered]
        }
        if result.get("unavailable"):
            out["unavailable"] = "that time was just taken"
        elif result.get("nearest"):
            out["note"] = "nothing free in the asked-for window; these are the nearest"
        return out
    if name == "hold_slot":
        return {"held": True, "read_back": m.last_prompt}
    if name in ("my_bookings", "owner_schedule"):
        return {"bookings": [_brief(machine, b) for b in result.get("bookings", [])]}
    if "refused" in result:
        return {"refused": result["refused"]}
    if "booking" in result:
        return {"done": m.outcome.action, "booking": _brief(machine, result["booking"])}
    return result


def _brief(machine: Capabilities, booking: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": booking["uid"],
        "service": machine.service_name(booking["service"]),
        "when": machine.label(datetime.fromisoformat(booking["start"])),
        "name": booking.get("name"),
    }
