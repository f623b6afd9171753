"""What `/metrics` counts as the messaging side works, scraped from the app on a real uvicorn with the local
Cal.com and Twilio servers: Cal.com webhook deliveries by result, Cal.com API requests by status with
their latency, bookings made through the receptionist, and texts by status (ours and Twilio's callbacks)."""

from __future__ import annotations

from tests.messaging.conftest import CUSTOMER, Bench
from tests.support.metrics_scrape import scrape

THU_10AM = "2026-11-26T18:00:00.000Z"  # the texter books Wed 2 PM


async def test_webhooks_calcom_requests_bookings_and_texts_move_their_counters(bench: Bench) -> None:
    before = await scrape(bench.url)
    booking = await bench.book_online(THU_10AM)  # booked on Cal.com's page: not one of ours
    assert (await bench.webhook("BOOKING_CREATED", booking["uid"])).json() == {"status": "accepted"}
    assert (await bench.webhook("BOOKING_CREATED", booking["uid"])).json() == {"status": "duplicate"}
    forged = await bench.webhook("BOOKING_CREATED", booking["uid"], signature="0" * 64)
    assert forged.status_code == 401
    (confirmation,) = await bench.twilio.messages_arrive(1, to=CUSTOMER)
    assert (await bench.twilio.send_status_callback(confirmation.sid, "delivered")).status_code == 204
    texter = "+15035550177"
    for line in [
        "Hi, can someone come fix a leaking toilet tomorrow at 2?",
        "Olga Petrov",
        "12 Ocean Ave",
        "yes",
        "yes",
    ]:
        await bench.text_in(line, sender=texter)  # booked through the receptionist, by text, on Cal.com
    await bench.drain()
    after = await scrape(bench.url)

    def moved(name: str, **labels: str) -> float:
        return after.total(name, **labels) - before.total(name, **labels)

    assert moved("silentpartner_webhook_deliveries_total", source="calcom", result="accepted") == 1
    assert moved("silentpartner_webhook_deliveries_total", source="calcom", result="duplicate") == 1
    assert moved("silentpartner_webhook_deliveries_total", source="calcom", result="unauthorized") == 1
    assert moved("silentpartner_sms_total", status="queued") >= 1  # Twilio took the confirmation (and the booking's)
    assert moved("silentpartner_sms_total", status="delivered") == 1
    assert moved("silentpartner_bookings_total", business=bench.business.slug, source="sms") == 1
    requests = moved("silentpartner_calcom_requests_total")
    assert moved("silentpartner_calcom_requests_total", method="POST", status="201") >= 1  # the booking
    assert moved("silentpartner_calcom_requests_total", method="GET", status="200") >= 1  # slots, bookings
    assert moved("silentpartner_calcom_request_seconds_count") == requests  # every one timed
    assert after.value("silentpartner_job_queue_depth", state="due") == 0  # all drained
