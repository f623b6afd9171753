"""`silentpartner simulate --jsonl` as a real subprocess: scripted callers, JSON lines out, exit 0."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, CallRecord
from tests.conversation.scenario_runner import load_scenarios

ROOT = Path(__file__).resolve().parents[2]


def simulate(lines: list[str], *args: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--now", "2026-11-24T10:00", *args],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _by_name(name: str) -> dict:
    return next(s for s in load_scenarios() if s["name"] == name)


@pytest.mark.parametrize("name", ["book_basic", "book_dtmf_phone", "emergency_flooding_transfer", "forwarded_call"])
def test_scenarios_through_the_real_command(name: str) -> None:
    scenario = _by_name(name)
    args = ["--from", scenario.get("from", "+15035550123")]
    if scenario.get("forwarded_from"):
        args += ["--forwarded-from", scenario["forwarded_from"]]
    out = simulate(scenario["caller"], *args)
    turns, final = out[:-1], out[-1]
    assert all(t["done"] is False and t["say"] for t in turns)
    assert final["done"] is True
    expect = scenario["expect"]
    assert final["outcome"]["action"] == expect["action"]
    for key, value in (expect.get("booking") or {}).items():
        assert final["outcome"]["booking"][key] == value
    said = " ".join(t["say"] for t in turns).lower()
    for phrase in expect.get("says", []):
        assert phrase.lower() in said


def test_end_of_input_ends_the_call_and_the_record_is_kept(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}"
    out = simulate(BOOKING := _by_name("book_basic")["caller"][:7], "--db", url)
    assert out[-1] == {"done": True, "outcome": out[-1]["outcome"]}
    assert out[-1]["outcome"]["action"] == "booked"
    assert out[-1]["outcome"]["booking"]["start"] == "2026-11-25T14:00:00-08:00"
    assert len(BOOKING) == 7

    async def read() -> tuple[CallRecord, BookingRecord]:
        db = Database(url)
        try:
            async with db.session() as session:
                call = (await session.scalars(select(CallRecord))).one()
                booking = (await session.scalars(select(BookingRecord))).one()
                return call, booking
        finally:
            await db.close()

    call, booking = asyncio.run(read())
    assert call.channel == "simulate" and call.status == "completed"
    assert call.outcome == "booked" and call.booking_uid == booking.uid
    assert call.from_number == "+15035550123"
    assert [t["role"] for t in call.transcript[:2]] == ["agent", "caller"]


def test_an_iso_time_with_an_offset_is_respected() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--now", "2026-11-24T18:00:00+00:00"],
        input="When are you open?\nno thanks\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert "Monday to Friday 8 AM to 5 PM" in lines[1]["say"]
    assert lines[-1] == {"done": True, "outcome": {"action": "info"}}


def test_the_chat_brain_through_the_real_command() -> None:
    import os

    from tests.support.fake_openai_chat import ScriptedChat, call, last_tool_result
    from tests.support.servers import LiveServer

    chat = ScriptedChat(
        [
            call("business_info", topic="hours"),
            lambda body: {"content": f"We're open {last_tool_result(body)['info']}."},
            call("end_call"),
        ]
    )
    with LiveServer(chat.app) as server:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.url + "/v1",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_CHAT_MODEL": "gpt-test",
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "silentpartner",
                "simulate",
                "--jsonl",
                "--brain",
                "chat",
                "--now",
                "2026-11-24T10:00",
            ],
            input="What are your hours?\nthanks, bye\n",
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=env,
        )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "Monday to Friday 8 AM to 5 PM" in lines[1]["say"]
    assert lines[-1] == {"done": True, "outcome": {"action": "info"}}
    assert chat.requests[0]["model"] == "gpt-test"


def test_bad_arguments_say_what_to_do() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--from", "banana"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "not a phone number" in proc.stderr and "+15035550123" in proc.stderr


def _simulate_on_calcom(tmp_path: Path, fault: str | None = None) -> tuple[list[dict], Any]:
    """The quick-start Cal.com business in simulate: the real Cal.com v2 client against the local server.
    Returns the JSON turns and the local Cal.com server (stopped, its records kept)."""
    import os
    from datetime import UTC, datetime

    from silentpartner.clock import FixedClock
    from tests.support.fake_calcom import EventType, FakeCalcom

    clock = FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # Tue 10:00 in Portland, as --now says
    fake = FakeCalcom(now=clock.now, api_keys=("cal_sim_key",))
    fake.add_event_type(EventType(101, "service-call", "Service call", 60, requires_email=False))
    if fault:
        fake.inject("POST", "/v2/bookings", fault)
    with fake.running():
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CALCOM_", "BUSINESS", "OWNER_"))}
        env |= {
            "BUSINESS_NAME": "Sim Plumbing",
            "BUSINESS_NUMBER": "+15035550100",
            "OWNER_MOBILE": "+15035550199",
            "BUSINESS_TIMEZONE": "America/Los_Angeles",
            "CALCOM_API_KEY": "cal_sim_key",
            "CALCOM_API_URL": fake.url,
            "CALCOM_EVENT_TYPE_ID": "101",
        }
        lines = ["My kitchen tap is dripping", "Ann Lee", "yes", "12 Oak Street", "tomorrow at 2", "yes", "no"]
        proc = subprocess.run(
            [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--now", "2026-11-24T10:00"],
            input="".join(line + "\n" for line in lines),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=env,
        )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()], fake


def test_simulate_books_on_calcom(tmp_path: Path) -> None:
    turns, fake = _simulate_on_calcom(tmp_path)
    final = turns[-1]
    assert final["outcome"]["action"] == "booked", turns
    assert final["outcome"]["booking"]["start"] == "2026-11-25T14:00:00-08:00"
    assert fake.requests_to("POST", "/v2/bookings") == 1


def test_a_booking_cal_com_did_not_take_is_never_confirmed(tmp_path: Path) -> None:
    """Cal.com answered the create with a rejected booking: the caller hears that nothing is booked (not
    that the calendar is down), and the owner is asked to call back for that reason."""
    turns, _ = _simulate_on_calcom(tmp_path, fault="answer_rejected")
    said = " ".join(turn["say"] for turn in turns if "say" in turn)
    assert "didn't take that booking, so nothing is booked" in said, said
    assert "you're booked" not in said.lower() and "all set" not in said.lower()
    owner = [t for turn in turns for t in turn.get("texts", []) if t["to"] == "+15035550199"]
    assert owner and "didn't take a booking" in owner[0]["body"] and "Ann Lee" in owner[0]["body"], owner
    assert turns[-1]["outcome"]["action"] == "message"


def test_the_chat_brain_without_a_key_says_so_in_one_line(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.run(
        [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--brain", "chat"],
        input="hello\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "OPENAI_API_KEY" in proc.stderr and "calendar" not in proc.stderr


@pytest.mark.parametrize("url", ["foo", "postgresql+nonsense://x"])
def test_a_bad_database_url_is_one_line(tmp_path: Path, url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "silentpartner", "simulate", "--jsonl", "--db", url],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert url in proc.stderr and "not a database URL" in proc.stderr
