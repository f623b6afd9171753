"""The words of every text we send, written the way a person at the business would text.

Every channel words a booking's texts here: the conversation (a call or a text thread that books), the
job handlers (Cal.com webhooks, reminders) and the owner's notices. Times are always shown in the
business timezone ('Wed Feb 11 at 2:00 PM'). Each function takes plain values, so the wording is tested
without a database or a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from silentpartner.business import Business
from silentpartner.speech_text import clock, text_slot

if TYPE_CHECKING:
    from silentpartner.calendar.port import Booking
    from silentpartner.store.models import BookingRecord


@dataclass(frozen=True)
class BookingFacts:
    """What a text needs to know about a booking (from the bookings mirror)."""

    uid: str
    service: str
    start: datetime
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    payment_link: str | None = None
    cancellation_reason: str | None = None

    @classmethod
    def of_record(cls, row: BookingRecord) -> BookingFacts:
        """From the bookings mirror."""
        return cls(
            uid=row.uid,
            service=row.service,
            start=row.start_at,
            name=row.attendee_name,
            address=row.address,
            phone=row.attendee_phone,
            payment_link=row.payment_link,
            cancellation_reason=row.cancellation_reason,
        )

    @classmethod
    def of_booking(cls, booking: Booking) -> BookingFacts:
        """From a calendar backend's answer."""
        return cls(
            uid=booking.uid,
            service=booking.service,
            start=booking.start,
            name=booking.name,
            address=booking.address,
            phone=booking.phone,
            payment_link=booking.payment_link,
        )


def _when(business: Business, start: datetime) -> str:
    return text_slot(start.astimezone(business.tz))


def _short_when(business: Business, start: datetime) -> str:
    """'Wed 2 PM' for quick questions."""
    local = start.astimezone(business.tz)
    return f"{local:%a} {clock(local)}"


def _at(address: str | None) -> str:
    return f", {address.strip()}" if address and address.strip() else ""


def service_name(business: Business, slug: str) -> str:
    try:
        return business.service(slug).name
    except KeyError:
        return slug.replace("-", " ")


def confirmation(business: Business, booking: BookingFacts) -> str:
    text = (
        f"You're booked with {business.name} for {_when(business, booking.start)}{_at(booking.address)}. "
        "Reply C to cancel or R to reschedule."
    )
    if booking.payment_link:
        text += f" To hold the time, pay the deposit here: {booking.payment_link}"
    return text


def deposit_to_follow(business: Business, amount: float, owner_name: str) -> str:
    """A booking that needs a deposit when the calendar gave no payment link."""
    return f"{business.name}: your booking needs a ${amount:.0f} deposit; {owner_name} will send you a way to pay it."


def request_received(business: Business, booking: BookingFacts) -> str:
    return (
        f"Thanks! {business.name} got your request for {_when(business, booking.start)}{_at(booking.address)}. "
        "We'll text you once it's confirmed."
    )


def reminder(business: Business, booking: BookingFacts, hours: int) -> str:
    when = _when(business, booking.start)
    lead = "Reminder" if hours >= 12 else "See you soon"
    return f"{lead}: {business.name} is booked for {when}{_at(booking.address)}. Reply C to cancel or R to reschedule."


def rescheduled(business: Business, booking: BookingFacts) -> str:
    return (
        f"Your visit with {business.name} is moved to {_when(business, booking.start)}{_at(booking.address)}. "
        "Reply C to cancel or R to reschedule."
    )


def cancelled(business: Business, booking: BookingFacts) -> str:
    return (
        f"Your {_when(business, booking.start)} visit with {business.name} is cancelled. "
        "Reply here any time to book again."
    )


def rejected(business: Business, booking: BookingFacts) -> str:
    return (
        f"Sorry, {business.name} can't make {_when(business, booking.start)}. Reply here and we'll find another time."
    )


def confirm_cancel_question(business: Business, booking: BookingFacts) -> str:
    return f"Cancel your {_short_when(business, booking.start)} visit? Reply YES"


def nothing_to_cancel(business: Business) -> str:
    return f"We don't have an upcoming visit with {business.name} for this number. Reply here to book one."


def cancel_question_expired() -> str:
    return "Nothing is waiting on a YES right now. Reply C to cancel or R to reschedule."


def textback(business: Business) -> str:
    return f"Sorry we missed you — this is {business.name}. Reply here to book or tell us what you need."


def review_request(business: Business, booking: BookingFacts) -> str:
    first = (booking.name or "").split()[0] if booking.name else ""
    hello = f"Hi {first}, thanks" if first else "Thanks"
    link = f" {business.review_link}" if business.review_link else " Just reply to this text."
    return f"{hello} for choosing {business.name}! If we did right by you, would you leave us a quick review?{link}"


def sms_failure_fallback(business: Business) -> str:
    return f"Sorry, something went wrong on our side. {business.name} will text you back shortly."


# -- owner summaries --------------------------------------------------------------------------------


def _who(booking: BookingFacts) -> str:
    parts = [booking.name or "someone"]
    if booking.phone:
        parts.append(f"({booking.phone})")
    return " ".join(parts)


def _by(staff: str | None) -> str:
    return f" (by {staff})" if staff else ""


def owner_booking(business: Business, booking: BookingFacts, *, source: str, staff: str | None = None) -> str:
    via = {"call": "by phone", "sms": "by text", "calcom": "online", "webhook": "online"}.get(source, source)
    return (
        f"New booking {via}{_by(staff)}: {_who(booking)}, {service_name(business, booking.service)}, "
        f"{_when(business, booking.start)}{_at(booking.address)}."
    )


def owner_rescheduled(business: Business, booking: BookingFacts, *, staff: str | None = None) -> str:
    return f"Moved{_by(staff)}: {_who(booking)} is now {_when(business, booking.start)}{_at(booking.address)}."


def owner_cancelled(business: Business, booking: BookingFacts, *, staff: str | None = None) -> str:
    reason = f" Reason: {booking.cancellation_reason}." if booking.cancellation_reason else ""
    return f"Cancelled{_by(staff)}: {_who(booking)}, {_when(business, booking.start)}.{reason}"


def owner_message(business: Business, caller: str | None, message: str) -> str:
    return f"Message from {caller or 'a caller'}: {message.strip()}"


def owner_call_summary(
    business: Business,
    *,
    caller: str | None,
    name: str | None,
    how_it_ended: str,
    problem: str | None,
    address: str | None,
    said: list[str],
    limit: int = 600,
) -> str:
    """A call that came to nothing: who, how to reach them, what they need and what they said."""
    who = f"{name} ({caller})" if name and caller else (name or caller or "a caller with a hidden number")
    text = f"Call from {who}, nothing booked: {how_it_ended}."
    if problem and problem.strip(" .!?"):
        text += f" Problem: {problem.strip().rstrip('.!? ')}."
    if address and address.strip(" ."):
        text += f" Address: {address.strip().rstrip('. ')}."
    if said:
        quoted = " / ".join(f'"{line.strip()}"' for line in said if line.strip())
        text += f" They said: {quoted}" if quoted else ""
    else:
        text += " They said nothing."
    if caller:
        text += " Call or text them back."
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def owner_not_textable(business: Business, phone: str, why: str) -> str:
    return f"Heads up: we couldn't text {phone} ({why}). Please give them a call if they need a confirmation."


def owner_digest(business: Business, lines: list[str], day_label: str) -> str:
    if not lines:
        return f"{business.name} summary for {day_label}: no new bookings, changes or messages."
    return f"{business.name} summary for {day_label}:\n" + "\n".join(f"- {line}" for line in lines)
