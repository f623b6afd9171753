"""The live call's recorder is its heartbeat: every write stamps the time and the instance holding the
call, and a call where nothing happens still beats."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from silentpartner.clock import FixedClock
from silentpartner.store import Database
from silentpartner.voice import records
from silentpartner.voice.recorder import CallRecorder
from tests.conftest import PINNED_NOW

SID = "CA" + "4" * 32


async def _until_heartbeat(db: Database, expected, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while (record := await records.load_call(db, SID)) is None or record.heartbeat_at != expected:
        assert time.monotonic() < deadline, f"heartbeat stayed at {record and record.heartbeat_at}"
        await asyncio.sleep(0.01)


async def test_a_quiet_call_still_beats_and_every_write_says_who_holds_it(sqlite_db: Database) -> None:
    clock = FixedClock(PINNED_NOW)
    await records.open_call(
        sqlite_db,
        sid=SID,
        business="mikes-plumbing",
        from_number="+15035550123",
        to_number="+15035550100",
        forwarded_from=None,
        is_owner=False,
        channel="phone",
        now=PINNED_NOW,
    )
    recorder = CallRecorder(
        sqlite_db, SID, started_at=PINNED_NOW, loop_start=0.0, clock=clock, heartbeat_s=0.05, instance_id="me:1:ab"
    )
    recorder.start()
    recorder.set(status="in-progress")
    await _until_heartbeat(sqlite_db, PINNED_NOW)
    record = await records.load_call(sqlite_db, SID)
    assert record is not None and (record.status, record.instance_id) == ("in-progress", "me:1:ab")

    clock.advance(seconds=7)  # nothing said or played: only the beat writes
    await _until_heartbeat(sqlite_db, PINNED_NOW + timedelta(seconds=7))

    clock.advance(seconds=1)
    recorder.set(status="completed")
    await recorder.close()
    record = await records.load_call(sqlite_db, SID)
    assert record is not None and (record.status, record.heartbeat_at) == (
        "completed",
        PINNED_NOW + timedelta(seconds=8),
    )
