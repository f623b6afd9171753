"""The texts a customer gets when their booking is made, moved or cancelled, whoever made the change: the
caller on the phone, a text thread, the owner's assistant, or the owner on the dashboard. The words are
`sms_text`'s, the same a Cal.com booking's texts use; this turns a booking into those texts as actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from silentpartner import sms_text
from silentpartner.business import Business
from silentpartner.conversation.events import SendSms

Change = Literal["book", "reschedule", "cancel"]

_WORDING = {
    "book": (sms_text.confirmation, "confirmation"),
    "reschedule": (sms_text.rescheduled, "reschedule"),
    "cancel": (sms_text.cancelled, "cancellation"),
}


def booking_facts(booking: dict[str, Any], *, to: str | None) -> sms_text.BookingFacts:
    """`booking` in the outcome shape (`shapes.booking_to_dict`: ISO times with the business offset)."""
    return sms_text.BookingFacts(
        uid=booking["uid"],
        service=booking["service"],
        start=datetime.fromisoformat(booking["start"]),
        name=booking.get("name"),
        address=booking.get("address"),
        phone=to,
        payment_link=booking.get("payment_link"),
    )


def customer_texts(
    business: Business, change: Change, booking: dict[str, Any], *, to: str | None, owner_name: str
) -> list[SendSms]:
    """`to` is the customer's number; nothing when there is none to text."""
    if not to:
        return []
    facts = booking_facts(booking, to=to)
    compose, kind = _WORDING[change]
    texts = [SendSms(to=to, body=compose(business, facts), kind=kind, booking_uid=facts.uid)]
    service = business.service(facts.service) if change == "book" else None
    if service is not None and service.takes_deposit and not facts.payment_link:
        # With a payment link the confirmation carries it; without one the owner sends a way to pay.
        deposit = sms_text.deposit_to_follow(business, service.deposit or 0, owner_name)
        texts.append(SendSms(to=to, body=deposit, kind="payment_link", booking_uid=facts.uid))
    return texts
