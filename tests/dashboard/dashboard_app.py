"""The app under a real uvicorn for the dashboard's tests: two businesses (the demo plumber and an electrician,
each with its own owner token), Twilio pointed at the local Twilio API server, and data seeded through the
product's own calendar and records: bookings made on the embedded calendar, calls as the voice side writes them,
texts as messaging stores them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pytest

from silentpartner.app import create_app, default_components
from silentpartner.business import parse_businesses
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest
from silentpartner.clock import FixedClock, OffsetClock
from silentpartner.messaging.sms import record_inbound, set_opt_out
from silentpartner.runtime import Component
from silentpartner.settings import Settings
from silentpartner.store.db import Database
from silentpartner.store.models import MessageRecord
from silentpartner.voice import records
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import LiveServer
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

T = TypeVar("T")
PUBLIC_URL = "https://voice.silentpartner.test"
MIKE_TOKEN = "mike-owner-token-0123456789abcdef"
SPARKS_TOKEN = "sparks-owner-token-0123456789abcdef"
MIKE_TOKEN_ENV = "SP_TEST_MIKE_OWNER_TOKEN"
SPARKS_TOKEN_ENV = "SP_TEST_SPARKS_OWNER_TOKEN"
MIKE_NUMBER = "+15035550100"
SPARKS_NUMBER = "+17205550100"
JORDAN = "+15035550123"
MARIA = "+15035550144"
ELLEN = "+17205550177"
MISSED_CALLER = "+15035550155"

SPARKS_TOML = f"""
[[business]]
slug = "sparks-electric"
name = "Sparks Electric"
timezone = "America/Denver"
numbers = ["{SPARKS_NUMBER}"]
owner_mobile = "+17205550199"
owner_token_env = "{SPARKS_TOKEN_ENV}"

[business.hours]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]
thu = ["08:00-17:00"]
fri = ["08:00-17:00"]

[[business.services]]
slug = "service-call"
name = "service call"
duration_minutes = 60
"""


def businesses_toml() -> str:
    """The demo business as shipped, given an owner token variable, and a second business."""
    demo = resources.files("silentpartner").joinpath("demo_business.toml").read_text("utf-8")
    demo = demo.replace('calendar = "local"\n', f'calendar = "local"\nowner_token_env = "{MIKE_TOKEN_ENV}"\n', 1)
    return demo + SPARKS_TOML


@dataclass
class Seeded:
    """What the seed wrote: ids and uids the tests look for."""

    bookings: dict[str, str] = field(default_factory=dict)  # customer name -> uid
    calls: dict[str, int] = field(default_factory=dict)  # label -> call id
    call_sids: dict[str, str] = field(default_factory=dict)


@dataclass
class DashboardApp:
    server: LiveServer
    twilio: FakeTwilio
    settings: Settings
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.server.url


async def seed(database_url: str, now: datetime) -> Seeded:
    """Bookings on both businesses' embedded calendars, calls as the voice side records them, and texts."""
    businesses = parse_businesses(businesses_toml())
    mike, sparks = businesses.get("mikes-plumbing"), businesses.get("sparks-electric")
    db = Database(database_url)
    seeded = Seeded()
    clock = FixedClock(now)
    try:
        booked_call = await _call(
            db,
            mike.slug,
            "CAseedbooked0000000000000000000001",
            JORDAN,
            now - timedelta(hours=1),
            transcript=[
                ("agent", "Thanks for calling Mike's Plumbing, this is Sam. How can I help?", 0.0),
                ("caller", "My kitchen faucet is leaking.", 4.2),
                ("agent", "Sorry to hear about the faucet. Can I get your name?", 5.1),
                ("caller", "Jordan Smith.", 8.0),
                ("agent", "Thanks, Jordan. I can do today at 2 PM. Does that work?", 8.9),
                ("caller", "Yes, that works.", 12.3),
                ("agent", "You're booked for today at 2 PM. We'll text you the details.", 13.0),
            ],
            latencies=[820, 910, 760],
            details={"name": "Jordan Smith", "problem": "kitchen faucet is leaking", "address": "1234 Oak Street"},
            outcome="booked",
        )
        calendar = LocalCalendar(mike, db, clock)
        today_2pm = now.astimezone(mike.tz).replace(hour=14, minute=0)
        for name, phone, start, address, notes, call_sid in (
            ("Jordan Smith", JORDAN, today_2pm, "1234 Oak Street", "kitchen faucet is leaking", booked_call[1]),
            ("Maria Lopez", MARIA, today_2pm + timedelta(days=1, hours=-5), "17 Maple Avenue", "clogged toilet", None),
        ):
            booking = await calendar.book(
                BookingRequest(
                    service="service-call",
                    start=start,
                    name=name,
                    phone=phone,
                    address=address,
                    notes=notes,
                    call_id=call_sid,
                    source="call" if call_sid else "sms",
                )
            )
            seeded.bookings[name] = booking.uid
        await records.update_call(db, booked_call[1], booking_uid=seeded.bookings["Jordan Smith"])
        seeded.calls["booked"], seeded.call_sids["booked"] = booked_call
        seeded.calls["missed"], seeded.call_sids["missed"] = await _call(
            db,
            mike.slug,
            "CAseedmissed0000000000000000000002",
            MISSED_CALLER,
            now - timedelta(minutes=30),
            transcript=[("agent", "Thanks for calling Mike's Plumbing, this is Sam. How can I help?", 0.0)],
            latencies=[],
            details={},
            outcome=None,
            end_reason="socket closed",
            textback_queued=True,
        )
        sparks_calendar = LocalCalendar(sparks, db, clock)
        ellen = await sparks_calendar.book(
            BookingRequest(
                service="service-call",
                start=now.astimezone(sparks.tz).replace(hour=9, minute=0) + timedelta(days=1),
                name="Ellen Ripley",
                phone=ELLEN,
                address="1 Nostromo Way",
                notes="sparking outlet",
            )
        )
        seeded.bookings["Ellen Ripley"] = ellen.uid
        seeded.calls["sparks"], seeded.call_sids["sparks"] = await _call(
            db,
            sparks.slug,
            "CAseedsparks0000000000000000000003",
            ELLEN,
            now - timedelta(hours=2),
            transcript=[("caller", "My outlet is sparking, this is Ellen Ripley.", 1.0)],
            latencies=[],
            details={"name": "Ellen Ripley", "problem": "sparking outlet"},
            outcome="message",
            message="Call Ellen Ripley about the sparking outlet",
        )
        async with db.session() as session:
            await record_inbound(
                session,
                mike,
                sid="SMseedinbound1",
                from_number=MARIA,
                body="Can the plumber come earlier?",
                kind="reply",
                now=now,
            )
            session.add(
                MessageRecord(
                    sid="SMseedoutbound1",
                    business=mike.slug,
                    direction="out",
                    from_number=MIKE_NUMBER,
                    to_number=MARIA,
                    body="Mike's Plumbing: you're booked for a service call.",
                    kind="confirmation",
                    status="delivered",
                    booking_uid=seeded.bookings["Maria Lopez"],
                    created_at=now - timedelta(minutes=5),
                    updated_at=now - timedelta(minutes=5),
                )
            )
            await set_opt_out(session, mike.slug, MISSED_CALLER, now=now, opted_out=True, reason="STOP")
            session.add(
                MessageRecord(
                    business=mike.slug,
                    direction="out",
                    from_number=MIKE_NUMBER,
                    to_number=MISSED_CALLER,
                    body="Sorry we missed your call. Reply here and we'll get you booked.",
                    kind="textback",
                    status="blocked",
                    created_at=now - timedelta(minutes=29),
                    updated_at=now - timedelta(minutes=29),
                )
            )
    finally:
        await db.close()
    return seeded


async def _call(
    db: Database,
    business: str,
    sid: str,
    caller: str,
    started: datetime,
    *,
    transcript: list[tuple[str, str, float]],
    latencies: list[int],
    details: dict[str, Any],
    outcome: str | None,
    message: str | None = None,
    end_reason: str = "hangup:goodbye",
    textback_queued: bool = False,
) -> tuple[int, str]:
    record = await records.open_call(
        db,
        sid=sid,
        business=business,
        from_number=caller,
        to_number=None,
        forwarded_from=None,
        is_owner=False,
        channel="phone",
        now=started,
    )
    lines = [
        {"t": t, "at": (started + timedelta(seconds=t)).isoformat(), "role": role, "text": text}
        for role, text, t in transcript
    ]
    duration = int(transcript[-1][2]) + 5
    await records.update_call(
        db,
        sid,
        transcript=lines,
        latencies_ms=latencies,
        details=details,
        outcome=outcome,
        message_for_owner=message,
        status="completed",
        ended_at=started + timedelta(seconds=duration),
        duration_seconds=duration,
        end_reason=end_reason,
        textback_queued=textback_queued,
    )
    return record.id, sid


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end on a loop of its own thread: a test may already have a loop running in its
    own (Playwright's sync API does)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def without_speech() -> list[Component]:
    """The product's components but the voice one, whose offline speech models load in the background for a few
    seconds of both cores: pages and APIs need none of it."""
    from silentpartner.voice.warmup import VoiceComponent

    return [c for c in default_components() if not isinstance(c, VoiceComponent)]


@contextmanager
def dashboard_app(
    folder: Path,
    now: datetime,
    *,
    components: Callable[[], list[Component]] = without_speech,
    demo_only: bool = False,
    **settings_overrides: Any,
) -> Iterator[DashboardApp]:
    """Seeded, then served. Owner tokens are in the environment while it starts (read once, at start).

    `demo_only`: the built-in demo business alone (its token is DASHBOARD_TOKEN: pass `dashboard_token`), nothing
    seeded."""
    businesses_file = None if demo_only else folder / "businesses.toml"
    if businesses_file is not None:
        businesses_file.write_text(businesses_toml())
    database_url = settings_overrides.pop("database_url", f"sqlite+aiosqlite:///{folder / 'dashboard.db'}")
    with FakeTwilio(numbers=(MIKE_NUMBER, SPARKS_NUMBER)) as twilio, pytest.MonkeyPatch.context() as env:
        env.setenv(MIKE_TOKEN_ENV, MIKE_TOKEN)
        env.setenv(SPARKS_TOKEN_ENV, SPARKS_TOKEN)
        settings = Settings(
            database_url=database_url,
            public_url=PUBLIC_URL,
            businesses_file=businesses_file,
            twilio_account_sid=TEST_ACCOUNT_SID,
            twilio_auth_token=TEST_AUTH_TOKEN,
            twilio_api_url=twilio.url,
            _env_file=None,  # type: ignore[call-arg]
            **{"recordings_dir": folder / "recordings", **settings_overrides},
        )
        app = create_app(settings, clock=OffsetClock(now), components=components)
        with LiveServer(app) as server:
            # Seeded after the app has migrated the database (at its start), through a second connection.
            seeded = Seeded() if demo_only else run_async(seed(database_url, now))
            yield DashboardApp(server, twilio, settings, seeded)
