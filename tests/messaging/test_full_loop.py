"""The whole path through real HTTP: a booking made on Cal.com -> its signed webhook to our endpoint ->
one confirmation text at the Twilio API -> the customer replies C, then YES -> cancelled on Cal.com and a
cancellation text."""

from __future__ import annotations

from silentpartner.store.models import BookingRecord, Job, MessageRecord, WebhookEvent
from tests.messaging.conftest import CUSTOMER, STRANGER, Bench

# Wed 25 Nov 2026, 2:00 PM in Portland.
WED_2PM = "2026-11-25T22:00:00.000Z"
CONFIRMATION = (
    "You're booked with Mike's Plumbing for Wed Nov 25 at 2:00 PM, 123 Main St. Reply C to cancel or R to reschedule."
)


async def test_booking_webhook_confirmation_then_cancel_by_text(bench_any_db: Bench) -> None:
    bench = bench_any_db
    booking = await bench.book_online(WED_2PM)
    uid = booking["uid"]

    response = await bench.webhook("BOOKING_CREATED", uid)
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    (confirmation,) = await bench.twilio.messages_arrive(1, to=CUSTOMER)
    assert confirmation.body == CONFIRMATION
    assert confirmation.from_ == "+15035550100"
    assert confirmation.status_callback == bench.url + "/twilio/sms-status"

    # Cal.com has no retries, but a proxy or a replay may deliver the same body again: no second effect.
    again = await bench.webhook("BOOKING_CREATED", uid)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    await bench.drain()
    assert len(await bench.rows(WebhookEvent)) == 1

    (row,) = await bench.rows(BookingRecord, BookingRecord.uid == uid)
    assert row.status == "accepted" and row.attendee_phone == CUSTOMER and row.address == "123 Main St"
    assert row.source == "calcom" and row.confirmation_sent_at is not None

    # The owner heard about the online booking once.
    owner = bench.twilio.messages_to(bench.business.owner_mobile)
    assert len(owner) == 1 and "New booking online: Pat Jones" in owner[0].body

    reply = await bench.text_in("C")
    assert reply.status_code == 200 and "<Response" in reply.text
    assert bench.twilio.messages_to(CUSTOMER)[-1].body == "Cancel your Wed 2 PM visit? Reply YES"

    await bench.text_in("YES")
    assert bench.calcom is not None and bench.calcom.bookings[uid]["status"] == "cancelled"
    texts = [m.body for m in bench.twilio.messages_to(CUSTOMER)]
    assert texts[0] == CONFIRMATION and texts.count(CONFIRMATION) == 1
    assert texts[-1].startswith("Your Wed Nov 25 at 2:00 PM visit with Mike's Plumbing is cancelled.")

    # Cal.com's own BOOKING_CANCELLED arrives: the mirror already knows, so the customer gets no second text.
    sent_before = len(bench.twilio.messages_to(CUSTOMER))
    assert (await bench.webhook("BOOKING_CANCELLED", uid)).status_code == 200
    await bench.drain()
    assert len(bench.twilio.messages_to(CUSTOMER)) == sent_before
    (row,) = await bench.rows(BookingRecord, BookingRecord.uid == uid)
    assert row.status == "cancelled"
    kinds = [m.kind for m in await bench.rows(MessageRecord, MessageRecord.to_number == CUSTOMER)]
    assert kinds == ["confirmation", "reply", "cancellation"]


async def test_a_text_from_another_number_cannot_cancel_someone_elses_booking(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    await bench.webhook("BOOKING_CREATED", booking["uid"])
    await bench.twilio.messages_arrive(1, to=CUSTOMER)

    await bench.text_in("C", sender=STRANGER)
    await bench.text_in("YES", sender=STRANGER)
    assert bench.calcom is not None and bench.calcom.bookings[booking["uid"]]["status"] == "accepted"
    stranger_texts = [m.body for m in bench.twilio.messages_to(STRANGER)]
    assert stranger_texts[0].startswith("We don't have an upcoming visit with Mike's Plumbing for this number.")
    assert all("Wed" not in body for body in stranger_texts)


async def test_reschedule_by_text_then_calcoms_webhook_sends_nothing_twice(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    await bench.webhook("BOOKING_CREATED", booking["uid"])
    await bench.twilio.messages_arrive(1, to=CUSTOMER)
    for line in ["R", "Thursday", "the first one", "yes"]:
        await bench.text_in(line)
    assert bench.calcom is not None
    (new_uid,) = [uid for uid, b in bench.calcom.bookings.items() if b["status"] == "accepted"]
    assert bench.calcom.bookings[booking["uid"]]["status"] == "cancelled"
    moved = [m.body for m in bench.twilio.messages_to(CUSTOMER) if "Thu Nov 26 at 8:00 AM" in m.body]
    assert len(moved) == 1

    sent = len(bench.twilio.messages_to(CUSTOMER))
    await bench.webhook("BOOKING_RESCHEDULED", new_uid)
    await bench.drain()
    assert len(bench.twilio.messages_to(CUSTOMER)) == sent  # the thread already told them
    rows = {r.uid: r for r in await bench.rows(BookingRecord)}
    assert rows[booking["uid"]].status == "rescheduled" and rows[new_uid].status == "accepted"
    pending = await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")
    assert {j.dedupe_key.split(":")[1] for j in pending} == {new_uid}
