"""The app under a real uvicorn with Twilio configured against the local Twilio API server, and a
Twilio-side simulator pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from silentpartner.app import create_app, default_components
from silentpartner.clock import OffsetClock
from silentpartner.runtime import Component, Runtime
from silentpartner.settings import Settings
from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord, Job
from silentpartner.voice.call import CallTiming
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import LiveServer
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

PUBLIC_URL = "https://voice.silentpartner.test"
BUSINESS_NUMBER = "+15035550100"
OWNER = "+15035550199"
CALLER = "+15035550123"


class TimingComponent:
    """Puts the call timing in the runtime, as a deployment's configuration would."""

    def __init__(self, timing: CallTiming) -> None:
        self.timing = timing

    async def start(self, runtime: Runtime) -> None:
        runtime.call_timing = self.timing

    async def stop(self) -> None:
        return None


@dataclass
class VoiceApp:
    server: LiveServer
    twilio: FakeTwilio
    settings: Settings
    sim: TwilioCallerSim

    def db(self) -> Database:
        return Database(self.settings.database_url)

    async def call_record(self, sid: str) -> CallRecord | None:
        db = self.db()
        try:
            async with db.session() as session:
                return await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
        finally:
            await db.close()

    async def jobs(self, kind: str) -> list[Job]:
        db = self.db()
        try:
            async with db.session() as session:
                return list(await session.scalars(select(Job).where(Job.kind == kind)))
        finally:
            await db.close()


@contextmanager
def voice_app(
    sqlite_url: str,
    now: datetime,
    *,
    timing: CallTiming | None = None,
    components: Callable[[], list[Component]] | None = None,
    speed: float = 1.0,
    **settings_overrides: Any,
) -> Iterator[VoiceApp]:
    with FakeTwilio(numbers=(BUSINESS_NUMBER,)) as twilio:
        settings = Settings(
            database_url=sqlite_url,
            public_url=PUBLIC_URL,
            twilio_account_sid=TEST_ACCOUNT_SID,
            twilio_auth_token=TEST_AUTH_TOKEN,
            twilio_api_url=twilio.url,
            _env_file=None,  # type: ignore[call-arg]
            **{"run_jobs": False, **settings_overrides},
        )

        def with_timing() -> list[Component]:
            base = components() if components is not None else default_components()
            return [TimingComponent(timing or CallTiming()), *base]

        app = create_app(settings, clock=OffsetClock(now), components=with_timing)
        with LiveServer(app) as server:
            sim = TwilioCallerSim(server.url, public_url=PUBLIC_URL, auth_token=TEST_AUTH_TOKEN, speed=speed)
            yield VoiceApp(server, twilio, settings, sim)
