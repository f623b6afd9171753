"""The texts a customer gets when their booking is made, moved or cancelled, whoever made the change: the
caller on the phone, a text thread, the owner's assistant, or the owner on the dashboard. One wording for all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from silentpartner.business import Business
from silentpartner.conversation.events import SendSms
from silentpartner.speech_text import text_slot

Change = Literal["book", "reschedule", "cancel"]


def service_name(business: Business, slug: str | None) -> str:
    try:
        return business.service(slug or "").name
    except KeyError:
        return business.default_service().name


def customer_texts(
    business: Business, change: Change, booking: dict[str, Any], *, to: str | None, owner_name: str
) -> list[SendSms]:
    """`booking` in the outcome shape (`shapes.booking_to_dict`: ISO times with the business offset); `to` the
    customer's number. Nothing when there is no number to text."""
    if not to:
        return []
    start = datetime.fromisoformat(booking["start"])
    what = service_name(business, booking["service"])
    if change == "cancel":
        body = f"{business.name}: your {what} on {text_slot(start)} is cancelled."
    elif change == "reschedule":
        body = f"{business.name}: your {what} is moved to {text_slot(start)}."
    else:
        body = f"{business.name}: you're booked for a {what} on {text_slot(start)}"
        body += f" at {booking['address']}." if booking.get("address") else "."
    body += " Reply to this text to change it."
    kind = "confirmation" if change == "book" else change
    texts = [SendSms(to=to, body=body, kind=kind, booking_uid=booking["uid"])]
    service = business.service(booking["service"]) if change == "book" else None
    if service is not None and service.takes_deposit:
        link = booking.get("payment_link")
        pay = f"pay it here: {link}" if link else f"{owner_name} will send you a way to pay it"
        deposit_body = f"{business.name}: your booking needs a ${service.deposit:.0f} deposit: {pay}"
        texts.append(SendSms(to=to, body=deposit_body, kind="payment_link", booking_uid=booking["uid"]))
    return texts
