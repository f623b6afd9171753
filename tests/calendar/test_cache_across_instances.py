"""Slot-cache invalidation reaches every instance: two apps (each on its own uvicorn, real HTTP) share one
PostgreSQL database and the local Cal.com server. A change seen by instance A (a Cal.com webhook, a booking
made through A) makes instance B drop its cached slots, so B's next offer leaves the taken time out: the
offer its calendar makes, and the offer a texter gets from it over HTTP.

B runs no job worker, so A's worker applies every webhook, and the only way B can learn of it is the change
bus (PostgreSQL LISTEN/NOTIFY). Each test first shows B's cache still offering the taken time without that
news (the cache is what answers), then waits for B to hear it (its /metrics, an event, not a sleep)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from silentpartner.app import create_app
from silentpartner.business import Business, Businesses
from silentpartner.calendar.port import BookingRequest
from silentpartner.calendar.registry import CalendarComponent
from silentpartner.clock import FixedClock
from silentpartner.messaging.worker import JobWorker
from silentpartner.settings import Settings
from silentpartner.store.changes_listener import ChangeListenerComponent
from tests.messaging.conftest import CAL_KEY, CUSTOMER, WEBHOOK_SECRET, calcom_business, event_types
from tests.support.fake_calcom import FakeCalcom
from tests.support.fake_twilio import FakeTwilio
from tests.support.metrics_scrape import scrape
from tests.support.servers import LiveServer
from tests.support.twilio_signing import signed_headers

pytestmark = pytest.mark.postgres

WED = (datetime(2026, 11, 25, 16, 0, tzinfo=UTC), datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # Wed, Portland day
WED_2PM = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
WED_3PM = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
SLUG = "mikes-plumbing"
ASKING_FOR_WED_2PM = ["Hi, can someone come fix a leaking pipe Wednesday at 2 pm?", "Olga Petrov", "12 Ocean Ave"]
_sms_sids = itertools.count(1)


@dataclass
class Instance:
    server: LiveServer
    app: Any
    twilio: FakeTwilio

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def on_loop(self, make: Callable[[], Any]) -> Any:
        """Run a coroutine on the app's own event loop (its database pool and tasks live there)."""
        loop = self.runtime.loop
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), loop))

    async def offered(self, business: Business) -> set[datetime]:
        calendar = self.runtime.calendars[business.slug]
        return {s.start for s in await self.on_loop(lambda: calendar.find_slots("service-call", *WED))}

    async def texted(self, sender: str, lines: list[str]) -> list[str]:
        """Twilio delivering each line from `sender` to this instance (signed); the texts it answered with."""
        url = self.runtime.settings.public_url + "/twilio/sms"
        async with httpx.AsyncClient(timeout=15) as http:
            for line in lines:
                params = {
                    "MessageSid": f"SM{next(_sms_sids):032x}",
                    "AccountSid": self.twilio.account_sid,
                    "From": sender,
                    "To": self.runtime.businesses.get(SLUG).main_number,
                    "Body": line,
                    "NumMedia": "0",
                    "NumSegments": "1",
                    "SmsStatus": "received",
                    "ApiVersion": "2010-04-01",
                }
                headers = signed_headers(self.twilio.auth_token, url, params)
                answered = await http.post(self.server.url + "/twilio/sms", data=params, headers=headers)
                assert answered.status_code == 200, answered.text
        return [m.body for m in self.twilio.messages_to(sender)]

    async def heard_from_elsewhere(self) -> float:
        return (await scrape(self.server.url)).value("silentpartner_slot_cache_invalidations_total", origin="elsewhere")


class _LoopProbe:
    """A component that notes the app's event loop, so the test can run the app's own calendar on it."""

    async def start(self, runtime: Any) -> None:
        runtime.loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        pass


def _start(db_url: str, business: Business, clock: FixedClock, calcom: FakeCalcom, twilio: FakeTwilio, *, jobs: bool):
    settings = Settings(
        database_url=db_url,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_api_url=twilio.url,
        calcom_api_key=CAL_KEY,
        calcom_api_url=calcom.url,
        calcom_webhook_secret=WEBHOOK_SECRET,
        run_jobs=jobs,
        _env_file=None,
    )  # type: ignore[call-arg]

    def components() -> list[Any]:
        worker = JobWorker(worker_id="worker-a" if jobs else "worker-b", poll_interval=0.1)
        return [_LoopProbe(), ChangeListenerComponent(), CalendarComponent(), worker]

    app = create_app(settings, businesses=Businesses([business]), clock=clock, components=components)
    server = LiveServer(app).start()
    return Instance(server, app, twilio)


@pytest.fixture
def calcom(clock: FixedClock) -> Iterator[FakeCalcom]:
    fake = FakeCalcom(now=clock.now, api_keys=(CAL_KEY,))
    for et in event_types():
        fake.add_event_type(et)
    with fake.running():
        yield fake


@pytest.fixture
async def pair(
    postgres_db_url: str, demo: Business, clock: FixedClock, calcom: FakeCalcom
) -> AsyncIterator[tuple[Instance, Instance, Business]]:
    business = calcom_business(demo)
    with FakeTwilio(numbers=(business.main_number,)) as twilio:
        a = _start(postgres_db_url, business, clock, calcom, twilio, jobs=True)
        try:
            b = _start(postgres_db_url, business, clock, calcom, twilio, jobs=False)
            try:
                yield a, b, business
            finally:
                b.server.stop()
        finally:
            a.server.stop()


async def _until_heard(instance: Instance, more_than: float, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while await instance.heard_from_elsewhere() <= more_than:
        assert time.monotonic() < deadline, "instance B never heard that the slots changed"
        await asyncio.sleep(0.02)


async def _book_on_calcom(calcom: FakeCalcom) -> str:
    """A customer books Wednesday 2 PM on Cal.com's own booking page (no instance of ours hears of it)."""
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(
            calcom.url + "/v2/bookings",
            headers={"Authorization": f"Bearer {CAL_KEY}", "cal-api-version": "2024-08-13"},
            json={
                "start": WED_2PM.isoformat().replace("+00:00", "Z"),
                "eventTypeId": 101,
                "attendee": {"name": "Pat Jones", "timeZone": "America/Los_Angeles", "phoneNumber": CUSTOMER},
                "bookingFieldsResponses": {"address": "123 Main St"},
            },
        )
        assert created.status_code == 201, created.text
    return created.json()["data"]["uid"]


async def _webhook_to(instance: Instance, calcom: FakeCalcom, uid: str) -> None:
    delivered = await calcom.deliver_webhook(
        instance.server.url + "/webhooks/calcom", WEBHOOK_SECRET, "BOOKING_CREATED", uid
    )
    assert delivered.status_code == 200 and delivered.json() == {"status": "accepted"}


async def test_a_calcom_webhook_on_one_instance_empties_the_others_cache(
    pair: tuple[Instance, Instance, Business], calcom: FakeCalcom
) -> None:
    a, b, business = pair
    assert WED_2PM in await b.offered(business)  # B's cache now holds Wednesday

    uid = await _book_on_calcom(calcom)
    # Booked on Cal.com's own page: nobody has told B, whose cache still offers the time.
    assert WED_2PM in await b.offered(business)

    heard = await b.heard_from_elsewhere()
    await _webhook_to(a, calcom, uid)
    await _until_heard(b, heard)

    offered = await b.offered(business)
    assert WED_2PM not in offered
    assert WED_3PM in offered  # the rest of the day is still offered


async def test_a_booking_made_through_one_instance_empties_the_others_cache(
    pair: tuple[Instance, Instance, Business],
) -> None:
    a, b, business = pair
    assert WED_2PM in await b.offered(business)
    heard = await b.heard_from_elsewhere()

    calendar = a.runtime.calendars[business.slug]
    request = BookingRequest(
        service="service-call", start=WED_2PM, name="Pat Jones", phone=CUSTOMER, address="1 Elm St", source="call"
    )
    await a.on_loop(lambda: calendar.book(request))
    await _until_heard(b, heard)

    assert WED_2PM not in await b.offered(business)
    # A's own cache dropped it too (and fetched again in the background).
    assert WED_2PM not in await a.offered(business)


async def test_the_other_instances_next_offer_by_text_leaves_the_taken_time_out(
    pair: tuple[Instance, Instance, Business], calcom: FakeCalcom
) -> None:
    a, b, _business = pair
    # A first texter asks B for Wednesday 2 PM: it is free, and B offers it (B's cache now holds Wednesday).
    first = await b.texted("+15035550177", ASKING_FOR_WED_2PM)
    assert first[-1].startswith("So that's a service call tomorrow at 2 PM at 12 Ocean Ave for Olga Petrov.")

    uid = await _book_on_calcom(calcom)
    heard = await b.heard_from_elsewhere()
    await _webhook_to(a, calcom, uid)
    await _until_heard(b, heard)

    # The next texter to ask B for the same time is told it is gone, and offered the times around it.
    second = await b.texted("+15035550188", ASKING_FOR_WED_2PM)
    assert second[-1].startswith("I don't have anything tomorrow at 2 PM, but I could do tomorrow at ")
