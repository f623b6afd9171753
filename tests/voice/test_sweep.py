"""The sweep of calls whose process died: which calls it closes, as of when, and exactly once when
several instances sweep one database at the same time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from silentpartner.store import Database, migrate
from silentpartner.store.models import CallRecord, Job
from silentpartner.voice import records
from silentpartner.voice.sweep import sweep_once
from tests.conftest import PINNED_NOW

STALE_AFTER = timedelta(seconds=30)
LONG_AGO = PINNED_NOW - timedelta(minutes=5)
AGES_AGO = PINNED_NOW - timedelta(minutes=11)


def a_call(sid: str, **values) -> CallRecord:
    defaults = {
        "business": "mikes-plumbing",
        "from_number": "+15035550123",
        "to_number": "+15035550100",
        "channel": "phone",
        "status": "in-progress",
        "transcript": [{"role": "caller", "text": "My sink is blocked."}],
        "latencies_ms": [],
        "started_at": LONG_AGO,
        "instance_id": "dead-host:41:0badf00d",
        "heartbeat_at": LONG_AGO + timedelta(seconds=47),
    }
    return CallRecord(sid=sid, **{**defaults, **values})


async def _add(db: Database, *calls: CallRecord) -> None:
    async with db.session() as session:
        session.add_all(calls)


async def _calls(db: Database) -> dict[str, CallRecord]:
    async with db.session() as session:
        return {c.sid: c for c in await session.scalars(select(CallRecord))}


async def _job_keys(db: Database) -> list[str]:
    async with db.session() as session:
        return sorted(k for k in await session.scalars(select(Job.dedupe_key)) if k)


async def test_two_sweepers_racing_close_each_dead_call_exactly_once(db_url: str) -> None:
    """Two instances (their own engines and connections) sweep one database at once, four rounds each."""
    first, second = Database(db_url), Database(db_url)
    try:
        await migrate.upgrade(first)
        dead = [a_call(f"CA{n:032d}") for n in range(40)]
        alive = a_call("CA" + "a" * 32, heartbeat_at=PINNED_NOW - timedelta(seconds=3))
        await _add(first, *dead, alive)

        def sweeps(db: Database, instance: str) -> list:
            return [sweep_once(db, now=PINNED_NOW, stale_after=STALE_AFTER, instance_id=instance) for _ in range(4)]

        rounds = await asyncio.gather(*sweeps(first, "host-a:1:aaaa"), *sweeps(second, "host-b:2:bbbb"))
        closed = [sid for round_ in rounds for sid in round_]
        assert sorted(closed) == sorted(call.sid for call in dead)  # every one, and none twice
        calls = await _calls(first)
        for call in dead:
            swept = calls[call.sid]
            assert (swept.status, swept.end_reason) == ("cut-off", "cut off")
            assert swept.ended_at == call.heartbeat_at and swept.duration_seconds == 47
        assert (calls[alive.sid].status, calls[alive.sid].end_reason) == ("in-progress", None)
        assert await _job_keys(first) == sorted(
            [f"textback:{call.sid}" for call in dead] + [f"call_summary:{call.sid}" for call in dead]
        )
    finally:
        await first.close()
        await second.close()


async def test_the_sweep_closes_only_calls_nobody_holds(sqlite_db: Database) -> None:
    me = "this-host:7:cafe"
    fresh = PINNED_NOW - timedelta(seconds=10)
    await _add(
        sqlite_db,
        a_call("CA-dead"),
        a_call("CA-alive", heartbeat_at=fresh),
        a_call("CA-mine", instance_id=me),  # this instance runs, so its calls are alive
        a_call("CA-ended", status="completed", end_reason="socket closed", ended_at=LONG_AGO + timedelta(seconds=50)),
        a_call("CA-simulated", channel="simulate"),
        # Twilio's status callback marked it completed after the process died: still ours to close out.
        a_call("CA-twilio-ended", status="completed", ended_at=PINNED_NOW - timedelta(seconds=40)),
        # Answered by the webhook, but the stream never came and Twilio never said so.
        a_call("CA-never-bridged", status="ringing", heartbeat_at=None, instance_id=None, started_at=AGES_AGO),
        # Its stream may still be waiting on the speech models: not for the sweep yet.
        a_call("CA-ringing", status="ringing", heartbeat_at=None, instance_id=None),
        a_call("CA-owner", is_owner=True),
    )
    closed = await sweep_once(sqlite_db, now=PINNED_NOW, stale_after=STALE_AFTER, instance_id=me)
    assert sorted(closed) == ["CA-dead", "CA-never-bridged", "CA-owner", "CA-twilio-ended"]
    calls = await _calls(sqlite_db)
    assert calls["CA-twilio-ended"].status == "completed"
    assert calls["CA-twilio-ended"].ended_at == LONG_AGO + timedelta(seconds=47)
    never = calls["CA-never-bridged"]
    assert (never.status, never.ended_at, never.duration_seconds) == ("cut-off", AGES_AGO, 0)
    # The owner calling their own line is closed out, but nobody is texted about it.
    assert [key for key in await _job_keys(sqlite_db) if "CA-owner" in key] == []
    assert len(await _job_keys(sqlite_db)) == 6
    assert await sweep_once(sqlite_db, now=PINNED_NOW, stale_after=STALE_AFTER, instance_id="another:8:beef") == [
        "CA-mine"
    ]


async def test_a_status_callback_that_overtakes_the_live_call_leaves_settling_to_it(sqlite_db: Database) -> None:
    """Twilio can report the end while the call's last turn (a booking, say) is still being written."""
    await _add(sqlite_db, a_call("CA-live", status="completed", heartbeat_at=PINNED_NOW))
    assert not await records.settle(sqlite_db, "CA-live", now=PINNED_NOW, reason="status:completed")
    assert await _job_keys(sqlite_db) == []
    await records.update_call(sqlite_db, "CA-live", end_reason="socket closed")  # the live call closes it
    assert await records.settle(sqlite_db, "CA-live", now=PINNED_NOW, reason="bridge:socket closed")
    assert await _job_keys(sqlite_db) == ["call_summary:CA-live", "textback:CA-live"]
