"""`silentpartner calendar ...` end to end: a real process on the demo business, a temp SQLite file,
and a pinned clock (Tue 24 Nov 2026, 10:00 in Portland)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOW = "2026-11-24T10:00"


@pytest.fixture
def calendar_cli(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALCOM_", "BUSINESS", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, now: str | None = NOW) -> subprocess.CompletedProcess[str]:
        extra = ["--now", now] if now else []
        return subprocess.run(
            [sys.executable, "-m", "silentpartner", "calendar", *args, *extra],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return run


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_services_slots_book_list_reschedule_cancel(calendar_cli) -> None:
    services = json.loads(ok(calendar_cli("services", "--json", "--business", "mikes-plumbing")))
    assert [s["slug"] for s in services] == ["service-call", "emergency", "estimate"]
    assert services[0]["team"] == ["Mike", "Dana"]
    assert "service-call" in ok(calendar_cli("services"))

    # Today: two hours' notice from 10:00 means noon first; times print in Portland time.
    today = ok(calendar_cli("slots", "--service", "service-call", "--date", "2026-11-24"))
    assert today.splitlines()[0] == "Tue Nov 24 2026 12:00 PM"
    slots = json.loads(ok(calendar_cli("slots", "--service", "service-call", "--date", "tomorrow", "--json")))
    assert slots[0]["start"] == "2026-11-25T08:00:00-08:00" and slots[0]["team_member"] is None
    dana_friday = json.loads(
        ok(calendar_cli("slots", "--service", "estimate", "--date", "2026-11-27", "--member", "Dana", "--json"))
    )
    assert dana_friday == []
    week = json.loads(ok(calendar_cli("slots", "--service", "emergency", "--date", "today", "--days", "3", "--json")))
    assert {s["start"][:10] for s in week} == {"2026-11-24", "2026-11-25", "2026-11-26"}

    booked = json.loads(
        ok(
            calendar_cli(
                "book", "--service", "service-call", "--start", "2026-11-25T09:00", "--name", "Ann Lee",
                "--phone", "(503) 555-0101", "--address", "12 Oak St", "--notes", "leaking tap", "--json",
            )
        )
    )  # fmt: skip
    assert booked["start"] == "2026-11-25T09:00:00-08:00" and booked["phone"] == "+15035550101"
    assert booked["team_member"] == "Dana" and booked["source"] == "cli" and booked["status"] == "accepted"
    uid = booked["uid"]

    # Same time, with an explicit offset this time: Mike is still free, then nobody is.
    second = ok(
        calendar_cli(
            "book", "--service", "service-call", "--start", "2026-11-25T17:00:00+00:00",
            "--name", "Bo", "--phone", "+15035550102",
        )
    )  # fmt: skip
    assert second.startswith("booked ") and "Wed Nov 25 2026  9:00 AM" in second and "with Mike" in second
    taken = calendar_cli(
        "book", "--service", "service-call", "--start", "2026-11-25T09:00", "--name", "Cy", "--phone", "5035550103"
    )
    assert taken.returncode == 1
    assert taken.stderr.startswith("error: that time is not available; free nearby: ")
    assert len(taken.stderr.strip().splitlines()) == 1

    listed = json.loads(ok(calendar_cli("bookings", "--phone", "503-555-0101", "--json")))
    assert [b["uid"] for b in listed] == [uid]
    assert "no bookings" in ok(calendar_cli("bookings", "--phone", "+15035550177"))

    moved = json.loads(ok(calendar_cli("reschedule", uid, "--start", "2026-11-26T13:00", "--json")))
    assert moved["uid"] == uid and moved["start"] == "2026-11-26T13:00:00-08:00" and moved["rescheduled_from"] is None
    assert ok(calendar_cli("cancel", uid, "--reason", "fixed it myself")).startswith(f"cancelled {uid}")
    assert json.loads(ok(calendar_cli("bookings", "--phone", "5035550101", "--json"))) == []
    # --all is the customer's whole history: the cancelled booking too, saying it was cancelled.
    history = ok(calendar_cli("bookings", "--phone", "5035550101", "--all"))
    assert history.startswith(uid) and "  Ann Lee  cancelled" in history
    assert [
        b["status"] for b in json.loads(ok(calendar_cli("bookings", "--phone", "5035550101", "--all", "--json")))
    ] == ["cancelled"]


def test_errors_are_one_line_and_fail(calendar_cli) -> None:
    cases = [
        (("slots", "--service", "roofing", "--date", "tomorrow"), "no service 'roofing'"),
        (("slots", "--service", "estimate", "--date", "someday"), "is not a date"),
        (("book", "--service", "estimate", "--start", "soon", "--name", "A", "--phone", "5035550101"), "ISO time"),
        (("book", "--service", "estimate", "--start", "2027-06-01T09:00", "--name", "A", "--phone", "5035550101"),
         "days ahead"),
        (("cancel", "loc_missing", "--reason", "x"), "no booking loc_missing"),
        (("slots", "--service", "estimate", "--date", "tomorrow", "--business", "nobody"), "no business 'nobody'"),
    ]  # fmt: skip
    for args, message in cases:
        result = calendar_cli(*args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, result.stderr)
