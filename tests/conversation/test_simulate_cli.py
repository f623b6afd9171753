"""`silentpartner simulate --jsonl` as a real subprocess: scripted callers, JSON lines out, exit 0."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

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
