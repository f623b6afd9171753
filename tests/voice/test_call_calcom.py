"""A phone call on a Cal.com calendar (the local Cal.com v2 server) that is rate limiting our key: the
caller is told at once that the owner will call back, instead of silence while the client waits out
Cal.com's 60 s block."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from silentpartner.clock import OffsetClock
from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.support.caller_voice import caller_available
from tests.support.fake_calcom import EventType, FakeCalcom
from tests.voice.voice_app import BUSINESS_NUMBER, OWNER, voice_app

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]

KEY = "cal_test_key"
BUSINESSES = """
[[business]]
slug = "mikes-plumbing"
name = "Mike's Plumbing"
timezone = "America/Los_Angeles"
numbers = ["+15035550100"]
owner_mobile = "+15035550199"
calendar = "calcom"

[business.hours]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]

[[business.services]]
slug = "service-call"
name = "service call"
duration_minutes = 60
calcom_event_type_id = 101
"""


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_rate_limited_calendar_is_a_callback_offer_not_a_minute_of_silence(
    sqlite_url: str, tmp_path: Path
) -> None:
    (tmp_path / "businesses.toml").write_text(BUSINESSES)
    fake = FakeCalcom(now=OffsetClock(PINNED_NOW).now, api_keys=(KEY,))
    fake.add_event_type(EventType(101, "service-call", "Service call", 60, requires_email=False))
    seen = _Records()
    driver_log = logging.getLogger("silentpartner.conversation.driver")
    with fake.running():
        # The owner's call opens with their schedule: a bookings list, which Cal.com refuses for a minute.
        fake.inject("GET", "/v2/bookings", "429", reset_seconds=60)
        with voice_app(
            sqlite_url,
            PINNED_NOW,
            speed=8.0,
            businesses_file=tmp_path / "businesses.toml",
            calcom_api_key=KEY,
            calcom_api_url=fake.url,
        ) as app:
            driver_log.addHandler(seen)
            try:
                placed = await app.sim.place_call(from_=OWNER, to=BUSINESS_NUMBER)
                async with app.sim.connect(placed) as call:
                    await call.agent_finished_turn(quiet=0.4)
                record = await app.call_record(placed.call_sid)
            finally:
                driver_log.removeHandler(seen)
    assert record is not None
    said = " ".join(e["text"] for e in record.transcript if e["role"] == "agent")
    assert "can't reach the calendar" in said and "call you back" in said
    failed = [r for r in seen.records if r.getMessage() in ("tool.failed", "tool.timeout")]
    assert [r.getMessage() for r in failed] == ["tool.failed"]  # refused at once, not timed out
    assert "rate limiting" in failed[0].error  # type: ignore[attr-defined]
    assert fake.requests_to("GET", "/v2/bookings") == 1
