"""Runs a scenario (YAML: caller lines, pinned now, bookings already on the calendar, expected outcome) through
`silentpartner simulate --jsonl`: the same function the command runs (`run_simulation`), with the caller's lines
on its stdin and its JSON lines read back from its stdout, on a fresh SQLite database.

Scenario keys: `now` (business-local ISO), `caller` (lines; "#dtmf 3#" presses keys, "#silence" is silence),
`from`, `forwarded_from`, `text: true` (an SMS thread), `bookings` (seeded before `now`), `seed`, and `expect`:
`action`, `booking` (fields of the outcome's booking), `message_contains`, `says` / `never_says` (phrases),
`texts_to`, `transfer_to`, `transfer_summary` (phrases), `hung_up`, `uninterruptible` (phrases), `all_lines_used`
(default true), `max_turns`.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from silentpartner.business import Business, demo_businesses
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import BookingRequest
from silentpartner.clock import FixedClock
from silentpartner.simulate import SimulateOptions, parse_now, run_simulation
from silentpartner.store import migrate
from silentpartner.store.db import Database

SCENARIOS = Path(__file__).with_name("scenarios")


def load_scenarios() -> list[dict[str, Any]]:
    out = []
    for path in sorted(SCENARIOS.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        data.setdefault("name", path.stem)
        data["category"] = path.parent.name if path.parent != SCENARIOS else "core"
        out.append(data)
    return out


class _Lines(io.StringIO):
    """The caller's side of stdin: counts the lines the conversation actually read."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("".join(line + "\n" for line in lines))
        self.read_count = 0

    def readline(self, *args: Any) -> str:  # type: ignore[override]
        line = super().readline(*args)
        if line:
            self.read_count += 1
        return line

    def isatty(self) -> bool:
        return False


@dataclass
class Run:
    turns: list[dict[str, Any]]
    outcome: dict[str, Any]
    caller: list[str]
    heard: int  # caller lines the conversation read before it ended
    transcript: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [line for turn in self.turns for line in turn.get("lines", [])]

    @property
    def said(self) -> str:
        return "\n".join(line["text"] for line in self.lines)

    @property
    def texts(self) -> list[dict[str, Any]]:
        return [t for turn in self.turns for t in turn.get("texts", [])]

    @property
    def transfers(self) -> list[dict[str, Any]]:
        return [turn["transfer"] for turn in self.turns if "transfer" in turn]

    @property
    def hung_up(self) -> bool:
        return any(turn.get("hung_up") for turn in self.turns)


async def seed_bookings(url: str, business: Business, scenario: dict[str, Any]) -> None:
    """Bookings already on the calendar, made a day earlier so minimum notice never blocks them."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        clock = FixedClock(parse_now(scenario.get("seed_at", "2026-11-01T09:00"), business))
        calendar = LocalCalendar(business, db, clock)
        for item in scenario.get("bookings", []):
            await calendar.book(
                BookingRequest(
                    service=item.get("service", "service-call"),
                    start=parse_now(item["start"], business),
                    name=item.get("name", "Pat Doe"),
                    phone=item["phone"],
                    address=item.get("address"),
                    notes=item.get("notes"),
                    team_member=item.get("team_member"),
                    source="cli",
                )
            )
        await calendar.close()
    finally:
        await db.close()


async def run_scenario(scenario: dict[str, Any], workdir: Path, template: Path | None = None) -> Run:
    business = demo_businesses().get(scenario.get("business"))
    db_file = workdir / f"{scenario['name']}.db"
    if template is not None:
        shutil.copyfile(template, db_file)  # an already migrated database: each scenario starts from it
    url = f"sqlite+aiosqlite:///{db_file}"
    if scenario.get("bookings"):
        await seed_bookings(url, business, scenario)
    caller = list(scenario.get("caller", []))
    stdin, stdout = _Lines(caller), io.StringIO()
    options = SimulateOptions(
        business=scenario.get("business"),
        caller=scenario.get("from", "+15035550123"),
        forwarded_from=scenario.get("forwarded_from"),
        now=scenario["now"],
        db=url,
        jsonl=True,
        seed=scenario.get("seed", 0),
        text=bool(scenario.get("text")),
    )
    assert await run_simulation(options, stdin=stdin, stdout=stdout) == 0
    out = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert out and out[-1].get("done") is True, out
    run = Run(turns=out[:-1], outcome=out[-1]["outcome"], caller=caller, heard=stdin.read_count)
    run.transcript = _transcript(run, caller_first=bool(scenario.get("text")))
    return run


def _transcript(run: Run, *, caller_first: bool) -> list[str]:
    """Agent turns and caller lines interleaved, for failure messages (a text thread starts with the caller)."""
    lines: list[str] = []
    turns = list(run.turns)
    callers = list(run.caller[: run.heard])
    if caller_first and callers:
        lines.append(f"caller: {callers.pop(0)}")
    for turn in turns:
        for line in turn.get("lines", []):
            lines.append(f"agent: {line['text']}")
        for text in turn.get("texts", []):
            lines.append(f"  [text to {text['to']} ({text['kind']})]")
        if "transfer" in turn:
            lines.append(f"  [transfer: {turn['transfer']['summary']}]")
        if callers:
            lines.append(f"caller: {callers.pop(0)}")
    return lines


def repeats(run: Run) -> tuple[list[str], list[str]]:
    """(lines said three times or more, lines said twice in a row): neither may ever happen."""
    texts = [line["text"] for line in run.lines]
    thrice = [text for text, n in Counter(texts).items() if n >= 3]
    twice_in_a_row = [a for a, b in itertools.pairwise(texts) if a == b]
    return thrice, twice_in_a_row


def check(run: Run, scenario: dict[str, Any]) -> None:
    expect = scenario.get("expect", {})
    outcome = run.outcome
    context = "\n--- transcript ---\n" + "\n".join(run.transcript) + f"\n--- outcome ---\n{outcome}"
    thrice, in_a_row = repeats(run)
    assert not thrice, f"said three times or more: {thrice}{context}"
    assert not in_a_row, f"said twice in a row: {in_a_row}{context}"
    assert outcome["action"] == expect.get("action", "none"), context
    for key, value in (expect.get("booking") or {}).items():
        got = (outcome.get("booking") or {}).get(key)
        if key in ("start", "end") and got:
            assert datetime.fromisoformat(got) == datetime.fromisoformat(value), f"{key}: {got} != {value}{context}"
            assert got.endswith(value[-6:]), f"{key} should carry the business offset: {got}{context}"
        else:
            assert got == value, f"booking {key}: {got!r} != {value!r}{context}"
    if "message_contains" in expect:
        assert expect["message_contains"].lower() in (outcome.get("message") or "").lower(), context
    said = run.said.lower()
    for phrase in expect.get("says", []):
        assert phrase.lower() in said, f"agent never said {phrase!r}{context}"
    for phrase in expect.get("never_says", []):
        assert phrase.lower() not in said, f"agent said {phrase!r}{context}"
    if "transfer_to" in expect:
        assert [t["number"] for t in run.transfers] == [expect["transfer_to"]], context
        for phrase in expect.get("transfer_summary", []):
            assert phrase.lower() in run.transfers[0]["summary"].lower(), f"summary lacks {phrase!r}{context}"
    else:
        assert not run.transfers, context
    for to in expect.get("texts_to", []):
        assert any(t["to"] == to for t in run.texts), f"no text to {to}: {run.texts}{context}"
    if "hung_up" in expect:
        assert run.hung_up == expect["hung_up"], context
    if expect.get("all_lines_used", True):
        assert run.heard == len(run.caller), f"the call ended before: {run.caller[run.heard :]}{context}"
    if "max_turns" in expect:
        assert len(run.turns) <= expect["max_turns"], f"{len(run.turns)} agent turns{context}"
    for phrase in expect.get("uninterruptible", []):
        match = [line for line in run.lines if phrase.lower() in line["text"].lower()]
        uninterruptible = all(not line["interruptible"] for line in match)
        assert match and uninterruptible, f"{phrase!r} should be uninterruptible{context}"
