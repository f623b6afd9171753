"""From a call's raw tracks to its recording: one compressed stereo file (caller left, agent right), put in
the recording store under its key and then on the call record; and the tracks a killed process left.

Format (`RECORDING_FORMAT`), through soundfile (libsndfile, shipped inside its wheels): FLAC, lossless
and played by every current browser, 310-550 KB a minute of 8 kHz stereo call (the more line noise, the
more), compressed at 1,300-3,100x real time; or Ogg Vorbis, 160-250 KB a minute at 170-300x real time,
which older Safari does not play. Measured with `bench/recordings.py` on synthesized calls.

Which calls: a business's customer calls when it has `record_calls`; never the owner's or a team
member's own calls to their assistant (they say or key a PIN).

A process killed mid-call leaves its tracks in `RECORDINGS_DIR/.in-progress`. Raw μ-law has no header or
structure, so tracks cut off anywhere are still good tracks of everything written up to then: once the
sweep has closed the call out (`sweep.py`) and nobody has written them for `call_stale_after_seconds`,
`RecordingFiler` files them like any other (the owner gets the call up to the moment it was cut off). A
file being compressed is a `.part` beside them until the store takes it whole; a reference goes on the
call record only after that, so a kill at any point leaves either no recording or a whole one, and
leftovers are filed or removed on the next round. Instances sharing the folder (replicas on one volume) each
look for leftovers, at start and every round: the first to create a call's claim file (`<sid>.filing`,
O_CREAT|O_EXCL, atomic on a local disk) files it and the others leave it, so no two write the same `.part`.
A claim as old as the tracks is a filer that died: it is removed and the call claimed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import soundfile

from silentpartner.business import Business
from silentpartner.findings import Finding
from silentpartner.logs import log_event
from silentpartner.recordings import catalog
from silentpartner.recordings.storage import RecordingStore, in_progress_dir, open_store
from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice import records
from silentpartner.voice.audio import PHONE_RATE, ULAW_DECODE
from silentpartner.voice.recording import CallTape

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)

# format name -> (libsndfile format, subtype)
FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}
BLOCK = PHONE_RATE * 10  # samples compressed at a time: ten seconds, so a long call needs no more memory
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
CALLER_TRACK, AGENT_TRACK, PART, CLAIM = ".caller.ulaw", ".agent.ulaw", ".part", ".filing"


@dataclass(frozen=True)
class Filing:
    """Where a recording goes: the database, the store, the in-progress folder and the format."""

    db: Database
    store: RecordingStore
    folder: Path
    format: str

    @classmethod
    def of(cls, runtime: Runtime) -> Filing:
        settings = runtime.settings
        return cls(runtime.db, open_store(settings), in_progress_dir(settings), settings.recording_format)

    def tracks(self, call_sid: str) -> tuple[Path, Path]:
        if not _SID.fullmatch(call_sid):
            raise ValueError(f"not a call sid: {call_sid[:80]!r}")
        return self.folder / f"{call_sid}{CALLER_TRACK}", self.folder / f"{call_sid}{AGENT_TRACK}"


def records_calls(business: Business, record: CallRecord) -> bool:
    """A customer's call to a business that records its calls."""
    return business.record_calls and not record.is_owner and business.staff(record.from_number) is None


def tape_for(runtime: Runtime, business: Business, record: CallRecord, *, began: float) -> CallTape | None:
    """A tape for this call when it is to be recorded (None otherwise, or when its tracks cannot be opened:
    then the call goes on unrecorded)."""
    if not records_calls(business, record):
        return None
    filing = Filing.of(runtime)
    try:
        caller_path, agent_path = filing.tracks(record.sid)
        filing.folder.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as opened:
            caller = opened.enter_context(open(caller_path, "wb"))
            agent = opened.enter_context(open(agent_path, "wb"))
            opened.pop_all()  # both open: the tape owns and closes them
    except (OSError, ValueError) as exc:
        log_event(log, "recording.unavailable", logging.ERROR, error=repr(exc))
        return None
    sid, started_at = record.sid, record.started_at
    return CallTape(
        caller, agent, began=began, file_tracks=lambda: file_recording(filing, sid, business.slug, started_at)
    )


def compress(caller_path: Path, agent_path: Path, out: Path, format: str) -> int:
    """Both tracks into one stereo file at `out`; returns the samples per channel (0: nothing to keep)."""
    kind, subtype = FORMATS[format]
    length = max(_size(caller_path), _size(agent_path))
    if length == 0:
        return 0
    with (
        _open_or_empty(caller_path) as caller,
        _open_or_empty(agent_path) as agent,
        soundfile.SoundFile(out, "w", PHONE_RATE, 2, subtype, format=kind) as sound,
    ):
        for _ in range(0, length, BLOCK):
            left, right = caller.read(BLOCK), agent.read(BLOCK)
            block = np.zeros((max(len(left), len(right)), 2), dtype=np.int16)
            block[: len(left), 0] = ULAW_DECODE[np.frombuffer(left, dtype=np.uint8)]
            block[: len(right), 1] = ULAW_DECODE[np.frombuffer(right, dtype=np.uint8)]
            sound.write(block)
    return length


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _open_or_empty(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return io.BytesIO()


async def file_recording(filing: Filing, call_sid: str, business: str, started_at: datetime) -> str | None:
    """Compress a call's tracks, store the file and put it on the call record; returns its key. A failure is
    logged and leaves the tracks for `RecordingFiler` to try again."""
    try:
        caller_path, agent_path = filing.tracks(call_sid)
        # Each filer its own part file: two never write into one.
        part = filing.folder / f"{call_sid}.{filing.format}.{uuid.uuid4().hex[:8]}{PART}"
        samples = await asyncio.to_thread(compress, caller_path, agent_path, part, filing.format)
        key = None
        if samples:
            key = catalog.recording_key(business, call_sid, started_at, filing.format)
            size = await filing.store.put(key, part)
            await catalog.attach(filing.db, call_sid, key, size)
            log_event(log, "recording.filed", seconds=round(samples / PHONE_RATE, 1), bytes=size)
        for path in (caller_path, agent_path, part):
            path.unlink(missing_ok=True)
        return key
    except Exception as exc:
        log_event(log, "recording.file_failed", logging.ERROR, sid=call_sid, error=repr(exc))
        return None


async def file_leftovers(filing: Filing, *, stale_after: float, wall_clock=time.time) -> list[str]:
    """File the tracks nobody is writing any more whose call is over (see the module's docstring); drop
    tracks of calls that no longer exist and `.part` files nobody finished. Returns the sids filed."""
    if not filing.folder.is_dir():
        return []
    now = wall_clock()
    groups: dict[str, list[Path]] = {}
    for path in filing.folder.iterdir():
        if not path.is_file():
            continue
        sid = path.name.split(".", 1)[0]
        groups.setdefault(sid, []).append(path)
    filed = []
    for sid, paths in sorted(groups.items()):
        try:
            if now - max(path.stat().st_mtime for path in paths) < stale_after:
                continue  # being written (a live call here or on an instance sharing the folder) or filed now
        except FileNotFoundError:
            continue  # filed meanwhile
        record = await records.load_call(filing.db, sid) if _SID.fullmatch(sid) else None
        if record is not None and record.end_reason is None:
            continue  # not closed out yet: the sweep will, then the next round files it
        tracks = [path for path in paths if path.name.endswith((CALLER_TRACK, AGENT_TRACK))]
        if record is None or not tracks:
            for path in paths:
                path.unlink(missing_ok=True)
            log_event(log, "recording.leftover_removed", sid=sid[:64], files=len(paths))
            continue
        claim = _claim(
            filing.folder, sid, [path for path in paths if path.name.endswith(CLAIM)], now=now, stale_after=stale_after
        )
        if claim is None:
            continue  # another instance sharing the folder is filing it
        try:
            if not all(path.exists() for path in tracks):
                continue  # another instance filed it between our look at the folder and our claim
            for path in paths:
                if path.name.endswith(PART):
                    path.unlink(missing_ok=True)
            if await file_recording(filing, sid, record.business, record.started_at):
                filed.append(sid)
                log_event(log, "recording.leftover_filed", logging.WARNING, sid=sid, end_reason=record.end_reason)
        finally:
            claim.unlink(missing_ok=True)
    return filed


def _claim(folder: Path, sid: str, dead: list[Path], *, now: float, stale_after: float) -> Path | None:
    """This instance's claim on filing `sid`, or None when another instance holds it. `dead`: claims that
    were as old as the tracks when the folder was read, left by a filer that was killed; each is removed
    only if it is still that old (another instance may have just replaced it with a live claim of its own).
    Between that look and the removal there is no await, so instances in one process cannot interleave;
    across processes the window is a stat call wide, and `.part` files are per filer, so even then the
    worst is one filer finding the tracks gone."""
    for path in dead:
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime >= stale_after:
                path.unlink(missing_ok=True)
    claim = folder / f"{sid}{CLAIM}"
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return None
    return claim


async def check_recordings(runtime: Runtime) -> list[Finding]:
    """`doctor`: when a business records its calls, the recordings folder takes files."""
    recording = [b.slug for b in runtime.businesses if b.record_calls]
    if not recording:
        return []
    folder = in_progress_dir(runtime.settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"doctor-{uuid.uuid4().hex}.probe"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return [
            Finding(
                "fail",
                "RECORDINGS_DIR",
                f"cannot write in {folder} ({exc.strerror or exc}): calls of {', '.join(recording)} would go "
                "unrecorded; point RECORDINGS_DIR at a writable folder (a volume)",
            )
        ]
    return [Finding("ok", "call recordings", f"{', '.join(recording)}: kept in {runtime.settings.recordings_dir}")]


class RecordingFiler:
    """The app component: files leftover tracks at start (after the sweep has closed out the calls a crash
    cut off) and then every `call_sweep_every_seconds`. Off with RUN_JOBS=false, like the sweep."""

    def __init__(self) -> None:
        self.filing: Filing | None = None
        self.stale_after = 30.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, runtime: Runtime) -> None:
        if not runtime.settings.run_jobs:
            return
        self.filing = Filing.of(runtime)
        self.stale_after = runtime.settings.call_stale_after_seconds
        self._stop = asyncio.Event()
        await self.file_once()
        self._task = asyncio.create_task(
            self._run(runtime.settings.call_sweep_every_seconds), name=f"recording-filer:{runtime.instance_id}"
        )

    async def file_once(self) -> list[str]:
        assert self.filing is not None, "start the filer first"
        try:
            return await file_leftovers(self.filing, stale_after=self.stale_after)
        except Exception:
            log.exception("recording.leftovers_failed")
            return []

    async def _run(self, every: float) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=every)
            except TimeoutError:
                await self.file_once()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
