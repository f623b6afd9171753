"""The messaging test bench: our app on a real uvicorn, a local Cal.com v2 server and a local Twilio API.

`bench` starts all three for a Cal.com business (Mike's Plumbing on Cal.com, event type 101 = service
call with an address field). Helpers play Twilio (signed form POSTs) and Cal.com (signed webhooks), and
`bench.drain()` waits until the app's job worker has nothing due (an event, not a sleep).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from silentpartner.app import create_app
from silentpartner.business import Business, Businesses, Service
from silentpartner.calendar.port import BookingRequest
from silentpartner.calendar.registry import CalendarComponent
from silentpartner.clock import FixedClock
from silentpartner.messaging.worker import JobWorker
from silentpartner.settings import Settings
from tests.support.fake_calcom import EventType, FakeCalcom, Host
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import LiveServer
from tests.support.twilio_signing import signed_headers

CAL_KEY = "cal_test_key"
WEBHOOK_SECRET = "whsec-test-0123456789"
CUSTOMER = "+15035550111"
STRANGER = "+15035550122"
MIKE = Host(11, "Mike", "mike@example.com", "mike")
_inbound_sids = itertools.count(1)


def calcom_business(demo: Business, **changes: Any) -> Business:
    services = (
        Service(slug="service-call", name="service call", duration_minutes=60, calcom_event_type_id=101),
        Service(slug="estimate", name="free estimate", duration_minutes=30, calcom_event_type_id=103),
    )
    return demo.model_copy(update={"calendar": "calcom", "services": services, "team": (), **changes})


def event_types() -> list[EventType]:
    return [
        EventType(101, "service-call", "Service call", 60, requires_email=False, address_field="address", hosts=[MIKE]),
        EventType(103, "estimate", "Estimate", 30, requires_email=False, hosts=[MIKE]),
    ]


@dataclass
class Bench:
    server: LiveServer
    app: Any
    calcom: FakeCalcom | None
    twilio: FakeTwilio
    clock: FixedClock
    business: Business
    settings: Settings
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=15))

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    @property
    def worker(self) -> JobWorker:
        return next(c for c in self.runtime.components if isinstance(c, JobWorker))

    def _on_app_loop(self, coro_factory: Callable[[], Any]) -> Any:
        worker = self.worker
        assert worker._loop is not None
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro_factory(), worker._loop))

    async def drain(self) -> None:
        """Wait until the app's worker finds nothing due."""
        worker = self.worker
        await self._on_app_loop(lambda: worker.until_idle(15))

    async def db(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(session)` on the app's own loop (its database engine belongs there)."""

        async def run() -> Any:
            async with self.runtime.db.session() as session:
                return await fn(session)

        return await self._on_app_loop(run)

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async def fetch(session: Any) -> list[Any]:
            return list((await session.scalars(select(model).where(*where))).all())

        return await self.db(fetch)

    async def book_on_a_call(self, call_id: str, *, address: str | None = None) -> str:
        """What a phone call does: book Wed 2 PM through the app's own calendar, tagged with the call id."""
        calendar = self.runtime.calendars[self.business.slug]
        request = BookingRequest(
            service="service-call",
            start=datetime(2026, 11, 25, 22, 0, tzinfo=UTC),
            name="Pat Jones",
            phone=CUSTOMER,
            address=address,
            call_id=call_id,
            source="call",
        )
        booking = await self._on_app_loop(lambda: calendar.book(request))
        return booking.uid

    async def text_in(self, body: str, *, sender: str = CUSTOMER, sid: str | None = None, **extra: str):
        """Twilio delivering an inbound SMS to /twilio/sms, signed."""
        url = self.settings.public_url + "/twilio/sms"
        params = {
            "MessageSid": sid or f"SM{next(_inbound_sids):032x}",
            "AccountSid": self.twilio.account_sid,
            "From": sender,
            "To": self.business.main_number,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        return await self.http.post(
            self.url + "/twilio/sms", data=params, headers=signed_headers(self.twilio.auth_token, url, params)
        )

    async def book_online(self, start: str, *, phone: str = CUSTOMER, address: str = "123 Main St") -> dict[str, Any]:
        """A customer books on the Cal.com booking page (not through us)."""
        assert self.calcom is not None
        response = await self.http.post(
            self.calcom.url + "/v2/bookings",
            headers={"Authorization": f"Bearer {CAL_KEY}", "cal-api-version": "2024-08-13"},
            json={
                "start": start,
                "eventTypeId": 101,
                "attendee": {"name": "Pat Jones", "timeZone": "America/Los_Angeles", "phoneNumber": phone},
                "bookingFieldsResponses": {"address": address},
            },
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def webhook(self, trigger: str, uid: str, **kw: Any) -> httpx.Response:
        assert self.calcom is not None
        return await self.calcom.deliver_webhook(self.url + "/webhooks/calcom", WEBHOOK_SECRET, trigger, uid, **kw)


def start_bench(
    settings_kw: dict[str, Any], business: Business, clock: FixedClock, calcom: FakeCalcom | None, twilio: FakeTwilio
) -> Bench:
    settings = Settings(
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_api_url=twilio.url,
        calcom_api_key=CAL_KEY,
        calcom_api_url=calcom.url if calcom is not None else "https://api.cal.com",
        _env_file=None,
        **settings_kw,
    )  # type: ignore[call-arg]

    def components() -> list[Any]:
        return [CalendarComponent(), JobWorker(worker_id="bench-worker", poll_interval=0.2)]

    app = create_app(settings, businesses=Businesses([business]), clock=clock, components=components)
    server = LiveServer(app)
    settings.public_url = server.url  # Twilio signs the URL it was given: ours, on this port
    server.start()
    return Bench(
        server=server, app=app, calcom=calcom, twilio=twilio, clock=clock, business=business, settings=settings
    )


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(numbers=("+15035550100",)) as fake:
        yield fake


@pytest.fixture
def calcom(clock: FixedClock) -> Iterator[FakeCalcom]:
    fake = FakeCalcom(now=clock.now, api_keys=(CAL_KEY,))
    for et in event_types():
        fake.add_event_type(et)
    with fake.running():
        yield fake


@pytest.fixture
async def bench(
    sqlite_url: str, demo: Business, clock: FixedClock, calcom: FakeCalcom, twilio: FakeTwilio
) -> AsyncIterator[Bench]:
    b = start_bench(
        {"database_url": sqlite_url, "calcom_webhook_secret": WEBHOOK_SECRET},
        calcom_business(demo),
        clock,
        calcom,
        twilio,
    )
    try:
        yield b
    finally:
        await b.http.aclose()
        b.server.stop()


@pytest.fixture
async def bench_any_db(
    db_url: str, demo: Business, clock: FixedClock, calcom: FakeCalcom, twilio: FakeTwilio
) -> AsyncIterator[Bench]:
    """`bench`, once on SQLite and once on PostgreSQL."""
    b = start_bench(
        {"database_url": db_url, "calcom_webhook_secret": WEBHOOK_SECRET}, calcom_business(demo), clock, calcom, twilio
    )
    try:
        yield b
    finally:
        await b.http.aclose()
        b.server.stop()


@pytest.fixture
async def local_bench(sqlite_url: str, demo: Business, clock: FixedClock, twilio: FakeTwilio) -> AsyncIterator[Bench]:
    """The demo business on the embedded calendar (no Cal.com)."""
    b = start_bench({"database_url": sqlite_url}, demo, clock, None, twilio)
    try:
        yield b
    finally:
        await b.http.aclose()
        b.server.stop()
