"""Two replicas as one: two real `silentpartner serve` processes on one fresh PostgreSQL database, behind a
round-robin reverse proxy with no sticky sessions (tests/support/proxy.py), with the local Twilio and Cal.com
servers. Everything from outside goes through the proxy, as it would through a load balancer.

- A caller is on the line on one replica (the holder: its websocket; the voice webhook may have gone to
  either). Meanwhile a Cal.com booking's webhook, the customer's C and YES texts and Cal.com's cancellation
  webhook land on the other: one confirmation, one cancellation, each owner's note once, the mirror right.
- Scheduled work runs once across both: both started their recurring jobs (one of each), and every job that
  came due ran once (one attempt), whichever replica claimed it.
- The holder is killed (SIGKILL) mid-call: the other closes the call out (the sweep), the caller gets one
  text-back and the owner one note, and no job is lost.

The serve processes run on the system clock (the app has no setting to pin it), so the booking's day is
computed from today, and so is the local Cal.com server's clock. The reconcile every instance schedules comes
due at each 10-minute boundary of that clock; one falling inside the test would race the webhooks for the
mirror, so a test about to cross one first waits for it to pass. Otherwise waits are on events (texts
arriving at the local Twilio, rows in the database), never on sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from silentpartner.calendar.reconcile import next_reconcile_at
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, CallRecord, Job, WebhookEvent
from silentpartner.voice.speech import OfflineSpeech
from tests.messaging.conftest import CAL_KEY, WEBHOOK_SECRET, event_types
from tests.support.caller_voice import caller_available, caller_says
from tests.support.fake_calcom import FakeCalcom
from tests.support.fake_twilio import FakeTwilio
from tests.support.proxy import ProxyServer
from tests.support.serve_process import ServeProcess
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, signed_headers

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]

PUBLIC_URL = "https://replicas.silentpartner.test"
BUSINESS_NUMBER = "+15035550100"
OWNER = "+15035550199"
CALLER = "+15035550123"  # on the phone
CUSTOMER = "+15035550111"  # has a booking, and texts
PORTLAND = ZoneInfo("America/Los_Angeles")
RECURRING = ("reconcile", "recording_purge")  # scheduled by every replica at start, due every 10 min / hour
LIVE = ("pending", "running")
TEST_TAKES = timedelta(seconds=40)  # the longest this test runs: a reconcile boundary closer than that waits
FAST = 8.0
_sms_sids = itertools.count(1)


def _visit_start(today: date) -> datetime:
    """2 PM Portland on the second weekday from today: inside Mike's hours, past every notice period."""
    day, weekdays = today, 0
    while weekdays < 2:
        day += timedelta(days=1)
        weekdays += day.weekday() < 5
    return datetime(day.year, day.month, day.day, 14, 0, tzinfo=PORTLAND).astimezone(UTC)


class Shared:
    """Reads of the shared database, from the test's own connection pool."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.scalars(select(model).where(*where))).all())

    async def until(self, what: str, check: Any, within: float = 30) -> Any:
        deadline = time.monotonic() + within
        while True:
            found = await check()
            if found:
                return found
            assert time.monotonic() < deadline, f"never: {what}"
            await asyncio.sleep(0.05)

    async def due_jobs_left(self) -> list[Job]:
        """Jobs that came due and have not finished (or are being run)."""
        now = datetime.now(UTC)
        return [j for j in await self.rows(Job) if j.status in ("pending", "running") and j.run_at <= now]


async def _text_in(http: httpx.AsyncClient, proxy: ProxyServer, body: str) -> httpx.Response:
    """Twilio delivering the customer's text, signed over the public URL, through the proxy."""
    params = {
        "MessageSid": f"SM{next(_sms_sids):032x}",
        "AccountSid": TEST_ACCOUNT_SID,
        "From": CUSTOMER,
        "To": BUSINESS_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    headers = signed_headers(TEST_AUTH_TOKEN, PUBLIC_URL + "/twilio/sms", params)
    return await http.post(proxy.url + "/twilio/sms", data=params, headers=headers)


def _env(db_url: str, twilio: FakeTwilio, calcom: FakeCalcom) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_URL": twilio.url,
        "CALCOM_API_KEY": CAL_KEY,
        "CALCOM_API_URL": calcom.url,
        "CALCOM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CALCOM_EVENT_TYPE_IDS": "service-call=101,estimate=103",
        "BUSINESS_NAME": "Mike's Plumbing",
        "BUSINESS_SLUG": "mikes-plumbing",
        "BUSINESS_TIMEZONE": "America/Los_Angeles",
        "BUSINESS_NUMBER": BUSINESS_NUMBER,
        "OWNER_MOBILE": OWNER,
        # A killed replica's calls are closed out within seconds (live calls beat twice a second).
        "CALL_HEARTBEAT_SECONDS": "0.5",
        "CALL_STALE_AFTER_SECONDS": "4",
        "CALL_SWEEP_EVERY_SECONDS": "0.5",
    }


async def _clear_of_the_next_reconcile() -> None:
    """Wait out a reconcile boundary (every 10 minutes of the wall clock) that would fall inside the test."""
    boundary = next_reconcile_at(datetime.now(UTC))
    if boundary - datetime.now(UTC) < TEST_TAKES:
        await asyncio.sleep((boundary - datetime.now(UTC)).total_seconds() + 1)


async def test_two_replicas_behind_a_round_robin_proxy_act_as_one(postgres_db_url: str, tmp_path: Path) -> None:
    await _clear_of_the_next_reconcile()
    calcom = FakeCalcom(now=lambda: datetime.now(UTC), api_keys=(CAL_KEY,))
    for et in event_types():
        calcom.add_event_type(et)
    shared = Shared(postgres_db_url)
    with FakeTwilio(numbers=(BUSINESS_NUMBER,)) as twilio, calcom.running():
        env = _env(postgres_db_url, twilio, calcom)
        replicas = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            replicas.append(ServeProcess(tmp_path / name, env))
        try:
            # Started together on the empty database: they migrate one after the other (the advisory lock).
            await asyncio.gather(*(asyncio.to_thread(r.start) for r in replicas))
            with ProxyServer([r.url for r in replicas]) as proxy:
                async with httpx.AsyncClient(timeout=30) as http:
                    await _scenario(shared, proxy, http, replicas, calcom, twilio)
        except BaseException:
            for r in replicas:
                print(f"--- replica on port {r.port} ---\n{r.log()}")
            raise
        finally:
            for r in replicas:
                r.terminate()
            await shared.db.close()


async def _scenario(
    shared: Shared,
    proxy: ProxyServer,
    http: httpx.AsyncClient,
    replicas: list[ServeProcess],
    calcom: FakeCalcom,
    twilio: FakeTwilio,
) -> None:
    # Both replicas answer through the proxy, one request each.
    for _ in replicas:
        assert (await http.get(proxy.url + "/readyz")).status_code == 200
    assert sorted(r.upstream for r in proxy.routed) == [0, 1]
    # Each replica scheduled its recurring work at start; every instance computes the same keys: one of each.
    recurring = sorted(j.kind for j in await shared.rows(Job, Job.kind.in_(RECURRING), Job.status.in_(LIVE)))
    assert recurring == sorted(RECURRING)

    # -- a caller on the line, on whichever replica the websocket reached -------------------------------------
    sim = TwilioCallerSim(proxy.url, public_url=PUBLIC_URL, auth_token=TEST_AUTH_TOKEN, speed=FAST)
    placed = await sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
    assert placed.status_code == 200, placed.twiml
    async with sim.connect(placed) as call:
        await call.agent_finished_turn(quiet=0.4)
        await call.say(caller_says("My kitchen faucet is leaking."))
        await call.agent_finished_turn(quiet=0.4)
        await call.say(caller_says("Jordan Smith."))
        await call.agent_finished_turn(quiet=0.4)

        async def recorded() -> CallRecord | None:
            (record,) = await shared.rows(CallRecord, CallRecord.sid == placed.call_sid)
            details = record.details or {}
            return record if details.get("name") and details.get("problem") and record.heartbeat_at else None

        record = await shared.until("the live call wrote the caller's name and problem", recorded)
        pids = [r._process.pid for r in replicas]  # type: ignore[union-attr]
        holder = next(i for i, pid in enumerate(pids) if f":{pid}:" in (record.instance_id or ""))
        other = 1 - holder
        (socket,) = [r for r in proxy.routed if r.kind == "websocket"]
        assert socket.upstream == holder

        # -- meanwhile, on the other replica: a booking made on Cal.com, then cancelled by text ----------------
        start = _visit_start(datetime.now(PORTLAND).date())
        booked = await http.post(
            calcom.url + "/v2/bookings",
            headers={"Authorization": f"Bearer {CAL_KEY}", "cal-api-version": "2024-08-13"},
            json={
                "start": start.isoformat().replace("+00:00", "Z"),
                "eventTypeId": 101,
                "attendee": {"name": "Pat Jones", "timeZone": "America/Los_Angeles", "phoneNumber": CUSTOMER},
                "bookingFieldsResponses": {"address": "123 Main St"},
            },
        )
        assert booked.status_code == 201, booked.text
        uid = booked.json()["data"]["uid"]

        await proxy.turn_to(other, http)
        delivered = await calcom.deliver_webhook(proxy.url + "/webhooks/calcom", WEBHOOK_SECRET, "BOOKING_CREATED", uid)
        assert delivered.status_code == 200 and delivered.json() == {"status": "accepted"}
        assert proxy.routed[-1].upstream == other
        (confirmation,) = await twilio.messages_arrive(1, to=CUSTOMER, within=30)
        assert confirmation.body.startswith("You're booked with Mike's Plumbing for ")
        await twilio.messages_arrive(1, to=OWNER, within=30)  # "New booking online"

        await proxy.turn_to(other, http)
        reply = await _text_in(http, proxy, "C")
        assert reply.status_code == 200 and proxy.routed[-1].upstream == other
        asked = twilio.messages_to(CUSTOMER)[-1].body
        assert asked.startswith("Cancel your ") and asked.endswith("Reply YES")
        await proxy.turn_to(other, http)
        assert (await _text_in(http, proxy, "YES")).status_code == 200 and proxy.routed[-1].upstream == other
        assert calcom.bookings[uid]["status"] == "cancelled"
        assert "is cancelled" in twilio.messages_to(CUSTOMER)[-1].body

        # Cal.com's own BOOKING_CANCELLED follows: the mirror already knows, so nobody is texted twice.
        await proxy.turn_to(other, http)
        again = await calcom.deliver_webhook(proxy.url + "/webhooks/calcom", WEBHOOK_SECRET, "BOOKING_CANCELLED", uid)
        assert again.status_code == 200 and proxy.routed[-1].upstream == other

        async def settled() -> bool:
            events = await shared.rows(WebhookEvent)
            return (
                len(events) == 2
                and all(e.status == "processed" for e in events)
                and not [j for j in await shared.due_jobs_left() if j.kind not in RECURRING]
            )

        await shared.until("both webhooks processed and every due job run", settled)

        # -- the holder dies mid-call ----------------------------------------------------------------------
        replicas[holder].kill()
        assert await call.wait_closed() != 1000  # the line dropped; nobody said goodbye

    (note,) = await twilio.messages_arrive(1, to=CALLER, within=30)  # the text-back
    assert "missed you" in note.body

    async def owner_told_of_the_call() -> list[Any]:
        return [m for m in twilio.messages_to(OWNER) if m.body.startswith("Call from Jordan Smith")]

    (summary,) = await shared.until("the owner's note about the cut-off call", owner_told_of_the_call)
    assert "the call was cut off" in summary.body and "faucet" in summary.body.lower()

    # -- everything agrees -------------------------------------------------------------------------------------
    (closed,) = await shared.rows(CallRecord, CallRecord.sid == placed.call_sid)
    assert (closed.status, closed.end_reason) == ("cut-off", "cut off")
    assert closed.ended_at == closed.heartbeat_at  # as of the last moment it was alive

    (row,) = await shared.rows(BookingRecord, BookingRecord.uid == uid)
    assert row.status == "cancelled" and row.attendee_phone == CUSTOMER

    customer = [m.body for m in twilio.messages_to(CUSTOMER)]
    assert len(customer) == 3 and customer[0] == confirmation.body  # confirmation, "Cancel ...?", cancelled
    assert len(twilio.messages_to(CALLER)) == 1
    owner = [m.body for m in twilio.messages_to(OWNER)]
    assert len(owner) == len(set(owner)), owner  # no note twice

    async def no_job_left() -> bool:
        return not [j for j in await shared.due_jobs_left() if j.kind not in RECURRING]

    await shared.until("the sweep's jobs ran on the surviving replica", no_job_left)
    ran = [j for j in await shared.rows(Job) if j.status == "done"]
    assert {"process_webhook", "booking_text", "owner_notice", "textback", "call_summary"} <= {j.kind for j in ran}
    assert all(j.attempts == 1 for j in ran), [(j.kind, j.attempts) for j in ran]  # each ran once, nowhere twice
    assert not await shared.rows(Job, Job.status == "parked")
    # The recurring jobs are still there, once each.
    pending = sorted(j.kind for j in await shared.rows(Job, Job.kind.in_(RECURRING), Job.status.in_(LIVE)))
    assert pending == sorted(RECURRING)
