"""Call recordings once the call is over: compressing the two tracks into one stereo file, filing it in the
local store and on the call record, serving it (with byte ranges) to its own business only, purging it
after the business's retention through the job worker (clock pinned), and tracks left by a killed process."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from silentpartner.app import open_runtime
from silentpartner.business import Business, Businesses
from silentpartner.clock import FixedClock
from silentpartner.messaging.worker import JobWorker
from silentpartner.recordings import catalog
from silentpartner.recordings.http import byte_range
from silentpartner.recordings.storage import BadKey, LocalRecordingStore, open_store
from silentpartner.settings import Settings
from silentpartner.store import Database, migrate
from silentpartner.store.models import CallRecord, Job
from silentpartner.voice.audio import ULAW_DECODE, pcm16_to_ulaw
from silentpartner.voice.recording_files import Filing, compress, file_leftovers, file_recording
from tests.conftest import PINNED_NOW

RATE = 8000


def tone(seconds: float, hz: float, level: int = 8000) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    return pcm16_to_ulaw((level * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())


def decoded(ulaw: bytes) -> np.ndarray:
    return ULAW_DECODE[np.frombuffer(ulaw, dtype=np.uint8)]


@pytest.mark.parametrize("format", ["flac", "ogg"])
def test_two_tracks_become_one_stereo_file_caller_left_agent_right(tmp_path: Path, format: str) -> None:
    caller, agent = tone(3.0, 300), tone(1.5, 700)  # the shorter track is padded with silence
    (tmp_path / "c").write_bytes(caller)
    (tmp_path / "a").write_bytes(agent)
    samples = compress(tmp_path / "c", tmp_path / "a", tmp_path / "out", format)
    assert samples == 3 * RATE
    audio, rate = soundfile.read(tmp_path / "out", dtype="int16")
    assert rate == RATE and audio.shape == (3 * RATE, 2)
    if format == "flac":  # lossless: the very samples that went in
        assert np.array_equal(audio[:, 0], decoded(caller))
        assert np.array_equal(audio[: len(agent), 1], decoded(agent))
        assert not audio[len(agent) :, 1].any()
    else:  # lossy: the same tone on the same side
        left, right = audio[:, 0].astype(float), audio[:, 1].astype(float)
        assert np.corrcoef(left[RATE : 2 * RATE], decoded(caller)[RATE : 2 * RATE])[0, 1] > 0.9
        assert np.corrcoef(right[4000:8000], decoded(agent)[4000:8000])[0, 1] > 0.9
        assert np.abs(right[2 * RATE :]).max() < 200  # nothing where the agent was silent


def test_no_audio_at_all_keeps_no_file(tmp_path: Path) -> None:
    assert compress(tmp_path / "missing", tmp_path / "missing-too", tmp_path / "out", "flac") == 0
    assert not (tmp_path / "out").exists()


async def test_the_local_store_keeps_whole_files_under_safe_keys_only(tmp_path: Path) -> None:
    store = LocalRecordingStore(tmp_path / "store")
    source = tmp_path / "finished.flac"
    source.write_bytes(b"0123456789" * 10_000)
    key = "mikes-plumbing/2026/11/CA0123abc.flac"
    assert await store.put(key, source) == 100_000
    assert not source.exists()  # consumed
    assert await store.exists(key) and await store.size(key) == 100_000
    assert b"".join([chunk async for chunk in store.open(key, 5, 25)]) == (b"0123456789" * 3)[5:25]
    assert len(b"".join([chunk async for chunk in store.open(key)])) == 100_000
    for bad in ("../etc/passwd", "mikes-plumbing/2026/11/../../x.flac", "/abs/2026/11/CA1.flac", "a/2026/11/CA1.wav"):
        with pytest.raises(BadKey):
            await store.size(bad)
    assert await store.delete(key) and not await store.exists(key)
    assert not await store.delete(key)


def test_byte_ranges() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=50-500", 100) == (50, 99)
    assert byte_range("bytes=100-", 100) is False
    assert byte_range("bytes=-0", 100) is False
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file instead
    assert byte_range("items=0-1", 100) is None


# -- filing, serving and purging, against a real database ------------------------------------------------


async def _call(db: Database, sid: str, business: str, *, days_ago: float = 0, ended: bool = True) -> None:
    async with db.session() as session:
        session.add(
            CallRecord(
                sid=sid,
                business=business,
                from_number="+15035550123",
                channel="phone",
                status="completed" if ended else "in-progress",
                transcript=[],
                latencies_ms=[],
                started_at=PINNED_NOW - timedelta(days=days_ago),
                end_reason="hangup" if ended else None,
            )
        )


async def _record(db: Database, sid: str) -> CallRecord:
    async with db.session() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.sid == sid))
    assert record is not None
    return record


def _tracks(filing: Filing, sid: str, seconds: float = 2.0) -> None:
    filing.folder.mkdir(parents=True, exist_ok=True)
    caller, agent = filing.tracks(sid)
    caller.write_bytes(tone(seconds, 300))
    agent.write_bytes(tone(seconds / 2, 700))


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    db = Database(url)
    await migrate.upgrade(db)
    try:
        yield db
    finally:
        await db.close()


async def test_a_filed_recording_is_on_its_call_and_the_tracks_are_gone(sqlite_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url, recordings_dir=tmp_path / "rec", _env_file=None)  # type: ignore[call-arg]
    async with migrated(sqlite_url) as db:
        filing = Filing(db, open_store(settings), tmp_path / "rec" / ".in-progress", "flac")
        await _call(db, "CA01", "mikes-plumbing")
        _tracks(filing, "CA01")
        key = await file_recording(filing, "CA01", "mikes-plumbing", PINNED_NOW)
        assert key == "mikes-plumbing/2026/11/CA01.flac"
        assert (tmp_path / "rec" / key).is_file()
        assert list(filing.folder.iterdir()) == []
        record = await _record(db, "CA01")
        assert record.recording_key == key and record.recording_bytes == (tmp_path / "rec" / key).stat().st_size
        recording = await catalog.open_for_call(db, filing.store, business="mikes-plumbing", call="CA01")
        assert recording is not None and recording.content_type == "audio/flac"
        assert await catalog.open_for_call(db, filing.store, business="other-business", call="CA01") is None
        assert await catalog.open_for_call(db, filing.store, business="other-business", call=record.id) is None
        (tmp_path / "rec" / key).unlink()  # the file went missing: no recording, not an error
        assert await catalog.open_for_call(db, filing.store, business="mikes-plumbing", call=record.id) is None


async def test_the_purge_job_deletes_recordings_past_each_businesss_retention(
    sqlite_url: str, tmp_path: Path, demo: Business
) -> None:
    """The worker runs the real `recording_purge` job when its hour comes on a pinned clock."""
    root = tmp_path / "rec"
    keeps_a_week = demo.model_copy(update={"record_calls": True, "recording_retention_days": 7})
    keeps_a_year = demo.model_copy(
        update={
            "slug": "joes-electric",
            "numbers": ("+15035550177",),
            "record_calls": True,
            "recording_retention_days": 365,
        }
    )
    settings = Settings(database_url=sqlite_url, recordings_dir=root, _env_file=None)  # type: ignore[call-arg]
    clock = FixedClock(PINNED_NOW)
    runtime = await open_runtime(settings, Businesses([keeps_a_week, keeps_a_year]), clock)
    filing = Filing.of(runtime)
    calls = {"CA10": (keeps_a_week, 0), "CA11": (keeps_a_week, 3), "CA12": (keeps_a_year, 3), "CA13": (keeps_a_year, 0)}
    for sid, (business, days_ago) in calls.items():
        await _call(runtime.db, sid, business.slug, days_ago=days_ago)
        _tracks(filing, sid, seconds=0.5)
        assert await file_recording(filing, sid, business.slug, PINNED_NOW - timedelta(days=days_ago))
    worker = JobWorker(poll_interval=0.05, schedule_recurring=False)
    await worker.start(runtime)
    try:
        await catalog.schedule_purge(runtime.db, now=clock.now())
        await worker.until_idle()
        assert all([(await _record(runtime.db, sid)).recording_key for sid in calls])  # not due yet

        clock.advance(days=5)  # CA11 is 8 days old now: past a week; the rest are within their retention
        await worker.until_idle()
        kept = {sid: (await _record(runtime.db, sid)).recording_key for sid in calls}
        assert kept["CA11"] is None and all(kept[sid] for sid in ("CA10", "CA12", "CA13"))
        assert not (root / "mikes-plumbing/2026/11/CA11.flac").exists()
        assert (root / "mikes-plumbing/2026/11/CA10.flac").exists()

        clock.advance(days=3)  # CA10 is 8 days old; the year-long business keeps its own
        await worker.until_idle()
        kept = {sid: (await _record(runtime.db, sid)).recording_key for sid in calls}
        assert kept["CA10"] is None and kept["CA12"] and kept["CA13"]
        assert sorted(p.name for p in root.rglob("*.flac")) == ["CA12.flac", "CA13.flac"]
        async with runtime.db.session() as session:
            purges = list(await session.scalars(select(Job).where(Job.kind == "recording_purge")))
        assert [job.status for job in purges].count("pending") == 1  # each run schedules the next
        assert {job.status for job in purges} == {"done", "pending"}
    finally:
        await worker.stop()
        await runtime.close()


async def test_leftover_tracks_are_filed_once_their_call_is_closed_and_nobody_writes_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    async with migrated(sqlite_url) as db:
        filing = Filing(db, LocalRecordingStore(root), root / ".in-progress", "flac")
        await _call(db, "CA20", "mikes-plumbing", ended=True)  # closed out by the sweep
        await _call(db, "CA21", "mikes-plumbing", ended=False)  # still live (on another instance)
        for sid in ("CA20", "CA21", "CA22"):  # CA22: no such call
            _tracks(filing, sid)
        half = filing.folder / "CA20.flac.part"
        half.write_bytes(b"fLaC half a file")  # a kill while compressing
        stray = filing.folder / "CA23.flac.part"
        stray.write_bytes(b"fLaC")

        assert await file_leftovers(filing, stale_after=60) == []  # all written just now
        old = time.time() - 120
        for path in filing.folder.iterdir():
            os.utime(path, (old, old))
        assert await file_leftovers(filing, stale_after=60) == ["CA20"]
        assert sorted(path.name for path in filing.folder.iterdir()) == ["CA21.agent.ulaw", "CA21.caller.ulaw"]
        record = await _record(db, "CA20")
        assert record.recording_key == "mikes-plumbing/2026/11/CA20.flac"
        audio, _ = soundfile.read(root / record.recording_key, dtype="int16")
        assert audio.shape == (2 * RATE, 2)
        assert (await _record(db, "CA21")).recording_key is None


def test_recording_settings_fail_with_one_line(tmp_path: Path) -> None:
    from silentpartner.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match=r"^RECORDING_FORMAT: "):
        load_settings(recording_format="mp3", _env_file=None)


async def test_an_unknown_business_keeps_recordings_the_default_retention(
    sqlite_url: str, tmp_path: Path, demo: Business
) -> None:
    root = tmp_path / "rec"
    async with migrated(sqlite_url) as db:
        filing = Filing(db, LocalRecordingStore(root), root / ".in-progress", "flac")
        for sid, days in (("CA30", catalog.DEFAULT_RETENTION_DAYS + 1), ("CA31", catalog.DEFAULT_RETENTION_DAYS - 1)):
            await _call(db, sid, "gone-business", days_ago=days)
            _tracks(filing, sid, 0.2)
            assert await file_recording(filing, sid, "gone-business", PINNED_NOW - timedelta(days=days))
        assert await catalog.purge_expired(db, filing.store, [demo], now=PINNED_NOW) == 1
        assert (await _record(db, "CA30")).recording_key is None
        assert (await _record(db, "CA31")).recording_key is not None


async def test_instances_sharing_the_folder_file_a_leftover_once(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Replicas on one recordings volume each look for leftovers at start and every round: one files each,
    and none trips over another (two writing one `.part`, or compressing tracks another just filed)."""
    root = tmp_path / "rec"
    async with migrated(sqlite_url) as db:
        filings = [Filing(db, LocalRecordingStore(root), root / ".in-progress", "flac") for _ in range(3)]
        await _call(db, "CA30", "mikes-plumbing", ended=True)
        await _call(db, "CA31", "mikes-plumbing", ended=True)
        _tracks(filings[0], "CA30")
        _tracks(filings[0], "CA31")
        # CA31's filer was killed mid-way: its claim is as old as the tracks, so it no longer holds the call.
        (filings[0].folder / "CA31.filing").write_bytes(b"")
        old = time.time() - 120
        for path in filings[0].folder.iterdir():
            os.utime(path, (old, old))

        results = await asyncio.gather(*(file_leftovers(f, stale_after=60) for f in filings))
        assert sorted(sid for filed in results for sid in filed) == ["CA30", "CA31"]  # each once, by someone
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert list(filings[0].folder.iterdir()) == []  # tracks, claims and parts all gone
        for sid in ("CA30", "CA31"):
            record = await _record(db, sid)
            assert record.recording_key == f"mikes-plumbing/2026/11/{sid}.flac"
            audio, _ = soundfile.read(root / record.recording_key, dtype="int16")
            assert audio.shape == (2 * RATE, 2)

        # A live claim (another instance filing right now) is left alone.
        await _call(db, "CA32", "mikes-plumbing", ended=True)
        _tracks(filings[0], "CA32")
        for path in filings[0].folder.iterdir():
            os.utime(path, (old, old))
        (filings[0].folder / "CA32.filing").write_bytes(b"")  # fresh
        assert await file_leftovers(filings[1], stale_after=60) == []
        assert (await _record(db, "CA32")).recording_key is None
