"""POST /webhooks/calcom: signatures, deduplication, and what each trigger does (every payload shape,
including MEETING_ENDED's flat one), against our app on a real server and the local Cal.com server."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest

from silentpartner.business import Business
from silentpartner.clock import FixedClock
from silentpartner.store.models import BookingRecord, Job, MessageRecord, WebhookEvent
from tests.messaging.conftest import CUSTOMER, WEBHOOK_SECRET, Bench, calcom_business, start_bench
from tests.support.fake_calcom import FakeCalcom
from tests.support.fake_twilio import FakeTwilio

WED_2PM = "2026-11-25T22:00:00.000Z"
THU_9AM = "2026-11-26T17:00:00.000Z"


def sign(raw: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def post(bench: Bench, raw: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Cal-Signature-256"] = signature
    return await bench.http.post(bench.url + "/webhooks/calcom", content=raw, headers=headers)


# -- signatures -------------------------------------------------------------------------------------


async def test_signatures(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    assert bench.calcom is not None
    raw = json.dumps(bench.calcom.webhook_body("BOOKING_CREATED", booking["uid"])).encode()

    assert (await post(bench, raw, None)).status_code == 401  # missing
    assert (await post(bench, raw, "no-secret-provided")).status_code == 401  # sender has no secret
    assert (await post(bench, raw, sign(raw, "another-secret"))).status_code == 401  # wrong secret
    tampered = raw.replace(b"Pat Jones", b"Eve Jones")
    assert (await post(bench, tampered, sign(raw))).status_code == 401  # body changed after signing
    assert (await post(bench, raw, "sha256=" + sign(raw))).status_code == 401  # not Cal.com's format
    assert await bench.rows(WebhookEvent) == []  # nothing refused was stored

    ok = await post(bench, raw, sign(raw).upper())  # hex compares case-insensitively
    assert ok.status_code == 200
    assert len(await bench.rows(WebhookEvent)) == 1


async def test_malformed_json_is_400(bench: Bench) -> None:
    raw = b'{"triggerEvent": "BOOKING_CREATED", '
    assert (await post(bench, raw, sign(raw))).status_code == 400
    raw = b"[1, 2, 3]"
    assert (await post(bench, raw, sign(raw))).status_code == 400
    assert await bench.rows(WebhookEvent) == []


async def test_signed_but_odd_payloads_are_validated_clamped_and_stripped_of_nuls(bench_any_db: Bench) -> None:
    """PostgreSQL text cannot hold NUL (CharacterNotInRepertoireError) and its varchars have widths; a
    signed delivery is trusted for who sent it, not for what is in it."""
    bench = bench_any_db
    assert bench.calcom is not None
    booking = await bench.book_online(WED_2PM)
    envelope = bench.calcom.webhook_body("BOOKING_CREATED", booking["uid"])
    payload = envelope["payload"]
    payload["attendees"][0]["name"] = "Pat\u0000 Jones" + "z" * 500
    payload["attendees"][0]["email"] = "pat\u0000@example.com"
    payload["additionalNotes"] = "leak\u0000 under the sink"
    payload["metadata"] = {"note\u0000": "from\u0000 the web", "silentpartnerSource": "x" * 300}
    payload["eventTypeId"] = "\u00b2"
    payload["cancellationReason"] = "\u0000"
    raw = json.dumps(envelope).encode()
    assert (await post(bench, raw, sign(raw))).status_code == 200
    await bench.drain()
    (event,) = await bench.rows(WebhookEvent)
    assert event.status == "processed", event.error
    (row,) = await bench.rows(BookingRecord, BookingRecord.uid == booking["uid"])
    assert row.attendee_name is not None and row.attendee_name.startswith("Pat Jones")
    assert len(row.attendee_name) == 200
    assert row.attendee_email == "pat@example.com"
    assert row.notes == "leak under the sink"
    assert row.source == "calcom" and row.service == "service-call"
    assert row.metadata_json["note"] == "from the web"

    bad_trigger = json.dumps({**envelope, "triggerEvent": "BOOKING_CREATED\u0000"}).encode()
    assert (await post(bench, bad_trigger, sign(bad_trigger))).status_code == 400
    bad_uid = json.dumps({**envelope, "payload": {**payload, "uid": "abc\u0000" + "u" * 300}}).encode()
    assert (await post(bench, bad_uid, sign(bad_uid))).status_code == 200  # stored, then ignored: no booking
    await bench.drain()
    assert sorted(e.status for e in await bench.rows(WebhookEvent)) == ["ignored", "processed"]


@pytest.mark.parametrize("allow", [False, True])
async def test_without_a_secret_unsigned_deliveries_are_refused_unless_allowed(
    allow: bool, sqlite_url: str, demo: Business, clock: FixedClock, calcom: FakeCalcom, twilio: FakeTwilio
) -> None:
    bench = start_bench(
        {"database_url": sqlite_url, "calcom_allow_unsigned_webhooks": allow},
        calcom_business(demo),
        clock,
        calcom,
        twilio,
    )
    try:
        booking = await bench.book_online(WED_2PM)
        response = await calcom.deliver_webhook(bench.url + "/webhooks/calcom", None, "BOOKING_CREATED", booking["uid"])
        assert response.status_code == (200 if allow else 401)
        assert len(await bench.rows(WebhookEvent)) == (1 if allow else 0)
    finally:
        await bench.http.aclose()
        bench.server.stop()


# -- triggers ---------------------------------------------------------------------------------------


async def test_unknown_trigger_is_stored_and_ignored(bench: Bench) -> None:
    raw = json.dumps({"triggerEvent": "OOO_CREATED", "createdAt": "2026-11-24T18:00:00Z", "payload": {"oooEntry": {}}})
    assert (await post(bench, raw.encode(), sign(raw.encode()))).status_code == 200
    await bench.drain()
    (event,) = await bench.rows(WebhookEvent)
    assert event.trigger == "OOO_CREATED" and event.status == "ignored"
    assert bench.twilio.messages == []


async def test_created_schedules_reminders_and_meeting_ended_asks_for_a_review(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    uid = booking["uid"]
    await bench.webhook("BOOKING_CREATED", uid)
    await bench.drain()
    reminders = await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")
    start = bench.calcom.bookings[uid]["start"]  # type: ignore[union-attr]
    assert sorted(j.dedupe_key for j in reminders) == [f"reminder:{uid}:2", f"reminder:{uid}:24"]
    assert {j.run_at.isoformat() for j in reminders} == {"2026-11-24T22:00:00+00:00", "2026-11-25T20:00:00+00:00"}
    assert start.startswith("2026-11-25T22:00")

    # The 24 h reminder goes out when its time comes.
    by_key = {j.dedupe_key: j for j in reminders}
    bench.clock.set(by_key[f"reminder:{uid}:24"].run_at)
    await bench.drain()
    reminder_texts = [m for m in bench.twilio.messages_to(CUSTOMER) if m.body.startswith("Reminder")]
    assert len(reminder_texts) == 1
    assert reminder_texts[0].body == (
        "Reminder: Mike's Plumbing is booked for Wed Nov 25 at 2:00 PM, 123 Main St. "
        "Reply C to cancel or R to reschedule."
    )

    # MEETING_ENDED: flat body (no payload wrapper, no createdAt); the review request waits review_delay_hours.
    body = bench.calcom.webhook_body("MEETING_ENDED", uid)  # type: ignore[union-attr]
    assert "payload" not in body and body["uid"] == uid
    bench.clock.set(bench.clock.now().replace(day=25, hour=23))
    assert (await bench.webhook("MEETING_ENDED", uid)).status_code == 200
    assert (await bench.webhook("MEETING_ENDED", uid)).json() == {"status": "duplicate"}
    await bench.drain()
    (review,) = await bench.rows(Job, Job.kind == "review_request")
    assert review.run_at == bench.clock.now() + timedelta(hours=bench.business.review_delay_hours)
    bench.clock.advance(hours=bench.business.review_delay_hours)
    await bench.drain()
    last = bench.twilio.messages_to(CUSTOMER)[-1]
    assert last.body.startswith("Hi Pat, thanks for choosing Mike's Plumbing!")


async def test_rescheduled_moves_reminders_to_the_new_booking_and_tells_the_customer(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    old = booking["uid"]
    await bench.webhook("BOOKING_CREATED", old)
    await bench.twilio.messages_arrive(1, to=CUSTOMER)
    # Rescheduled on Cal.com's side (the customer used the booking page's link).
    response = await bench.http.post(
        bench.calcom.url + f"/v2/bookings/{old}/reschedule",  # type: ignore[union-attr]
        headers={"Authorization": "Bearer cal_test_key", "cal-api-version": "2024-08-13"},
        json={"start": THU_9AM},
    )
    assert response.status_code in (200, 201), response.text
    new = response.json()["data"]["uid"]
    body = bench.calcom.webhook_body("BOOKING_RESCHEDULED", new)  # type: ignore[union-attr]
    assert body["payload"]["rescheduleUid"] == old and body["payload"]["uid"] == new
    await bench.webhook("BOOKING_RESCHEDULED", new)
    await bench.drain()

    rows = {r.uid: r for r in await bench.rows(BookingRecord)}
    assert rows[old].status == "rescheduled" and rows[old].rescheduled_to == new
    assert rows[new].status == "accepted" and rows[new].rescheduled_from == old
    assert rows[new].address == "123 Main St"
    pending = await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")
    assert sorted(j.dedupe_key for j in pending) == [f"reminder:{new}:2", f"reminder:{new}:24"]
    dropped = await bench.rows(Job, Job.kind == "reminder", Job.status == "dropped")
    assert sorted(j.dedupe_key for j in dropped) == [f"reminder:{old}:2", f"reminder:{old}:24"]
    last = bench.twilio.messages_to(CUSTOMER)[-1].body
    assert last == (
        "Your visit with Mike's Plumbing is moved to Thu Nov 26 at 9:00 AM, 123 Main St. "
        "Reply C to cancel or R to reschedule."
    )


async def test_cancelled_on_calcom_drops_reminders_and_tells_customer_and_owner(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    uid = booking["uid"]
    await bench.webhook("BOOKING_CREATED", uid)
    await bench.drain()
    cancel = await bench.http.post(
        bench.calcom.url + f"/v2/bookings/{uid}/cancel",  # type: ignore[union-attr]
        headers={"Authorization": "Bearer cal_test_key", "cal-api-version": "2024-08-13"},
        json={"cancellationReason": "found someone else"},
    )
    assert cancel.status_code in (200, 201), cancel.text
    await bench.webhook("BOOKING_CANCELLED", uid)
    await bench.drain()
    assert await bench.rows(Job, Job.kind == "reminder", Job.status == "pending") == []
    assert bench.twilio.messages_to(CUSTOMER)[-1].body.startswith(
        "Your Wed Nov 25 at 2:00 PM visit with Mike's Plumbing is cancelled."
    )
    owner = bench.twilio.messages_to(bench.business.owner_mobile)[-1].body
    assert (
        owner.startswith("Cancelled: Pat Jones (+15035550111), Wed Nov 25 at 2:00 PM.")
        and "found someone else" in owner
    )


async def test_requested_rejected_payment_and_paid_shapes(bench: Bench) -> None:
    booking = await bench.book_online(WED_2PM)
    uid = booking["uid"]
    assert bench.calcom is not None
    bench.calcom.bookings[uid]["status"] = "pending"
    await bench.webhook("BOOKING_REQUESTED", uid)
    await bench.drain()
    (row,) = await bench.rows(BookingRecord)
    assert row.status == "pending"
    assert bench.twilio.messages_to(CUSTOMER)[-1].body.startswith(
        "Thanks! Mike's Plumbing got your request for Wed Nov 25"
    )

    await bench.webhook("BOOKING_PAYMENT_INITIATED", uid)
    await bench.drain()
    (row,) = await bench.rows(BookingRecord)
    assert row.status == "awaiting_payment"

    bench.calcom.bookings[uid]["status"] = "accepted"
    await bench.webhook("BOOKING_PAID", uid)
    await bench.drain()
    (row,) = await bench.rows(BookingRecord)
    assert row.status == "accepted" and row.confirmation_sent_at is not None
    assert bench.twilio.messages_to(CUSTOMER)[-1].body.startswith("You're booked with Mike's Plumbing")

    other = await bench.book_online(THU_9AM, phone="+15035550133")
    await bench.webhook("BOOKING_REJECTED", other["uid"])
    await bench.drain()
    rejected = {r.uid: r for r in await bench.rows(BookingRecord)}[other["uid"]]
    assert rejected.status == "rejected"
    assert bench.twilio.messages_to("+15035550133")[-1].body.startswith("Sorry, Mike's Plumbing can't make Thu Nov 26")
    events = await bench.rows(WebhookEvent)
    assert {e.status for e in events} == {"processed"}


async def test_a_booking_made_on_a_call_gets_no_second_confirmation(bench: Bench) -> None:
    """A phone booking (our Cal.com backend puts the call id in its metadata) and its webhook meet as one
    record; the call texted its own confirmation, so the webhook must not send another."""

    uid = await bench.book_on_a_call("CA0001", address="123 Main St")
    assert bench.calcom is not None and bench.calcom.bookings[uid]["metadata"]["silentpartnerCallId"] == "CA0001"
    await bench.webhook("BOOKING_CREATED", uid)
    await bench.drain()
    (row,) = await bench.rows(BookingRecord)
    assert row.uid == uid and row.call_sid == "CA0001" and row.source == "call"
    assert bench.twilio.messages == []
    assert await bench.rows(MessageRecord) == []
    assert len(await bench.rows(Job, Job.kind == "reminder", Job.status == "pending")) == 2


async def test_an_oversized_body_is_refused(bench: Bench) -> None:
    raw = b'{"triggerEvent": "BOOKING_CREATED", "pad": "' + b"x" * (300 * 1024) + b'"}'
    response = await post(bench, raw, sign(raw))
    assert response.status_code == 413
    assert await bench.rows(WebhookEvent) == []


async def test_a_booking_change_refreshes_the_slot_cache(bench: Bench) -> None:
    cache = bench.runtime.slot_cache
    assert bench.calcom is not None
    await bench._on_app_loop(lambda: cache.warm(bench.business.slug))
    before = bench.calcom.requests_to("GET", "/v2/slots")
    booking = await bench.book_online(WED_2PM)
    await bench.webhook("BOOKING_CREATED", booking["uid"])
    await bench.drain()
    await bench._on_app_loop(cache.drain)
    assert bench.calcom.requests_to("GET", "/v2/slots") > before  # dropped and fetched again


async def test_concurrent_redeliveries_store_and_text_once(bench_any_db: Bench) -> None:
    import asyncio

    bench = bench_any_db
    booking = await bench.book_online(WED_2PM)
    assert bench.calcom is not None
    raw = json.dumps(bench.calcom.webhook_body("BOOKING_CREATED", booking["uid"])).encode()
    responses = await asyncio.gather(*(post(bench, raw, sign(raw)) for _ in range(6)))
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["status"] for r in responses).count("accepted") == 1
    await bench.drain()
    assert len(await bench.rows(WebhookEvent)) == 1
    assert len(bench.twilio.messages_to(CUSTOMER)) == 1
