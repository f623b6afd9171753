"""Writes a live call to its CallRecord as it goes: transcript lines with timestamps, per-turn latency,
outcome, booking uid and what the caller told us. Writes are coalesced by one writer task, so the audio
path never waits on the database and a crash loses at most the last moment.

The writer is also the call's heartbeat: every write stamps `heartbeat_at` (and the instance holding the
call), and a quiet call still beats every `heartbeat_s`. When the process dies the beats stop, and the
sweep (`sweep.py`) closes the call out as of its last beat.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from silentpartner.clock import Clock, SystemClock
from silentpartner.voice import records

log = logging.getLogger(__name__)


class CallRecorder:
    def __init__(
        self,
        db,
        call_sid: str,
        *,
        started_at: datetime,
        loop_start: float,
        clock: Clock | None = None,
        heartbeat_s: float = 5.0,
        instance_id: str | None = None,
    ) -> None:
        self.db = db
        self.call_sid = call_sid
        self.started_at = started_at
        self.clock = clock or SystemClock()
        self.heartbeat_s = heartbeat_s
        self.instance_id = instance_id
        self._loop_start = loop_start
        self.transcript: list[dict[str, Any]] = []
        self.latencies_ms: list[int] = []
        self._fields: dict[str, Any] = {}
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()  # one write at a time, so a later snapshot is never overwritten by an earlier
        self._writer: asyncio.Task | None = None
        self._closed = False

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"recorder:{self.call_sid}")

    def _stamp(self, at: float) -> dict[str, Any]:
        offset = max(0.0, at - self._loop_start)
        return {"t": round(offset, 3), "at": (self.started_at + timedelta(seconds=offset)).isoformat()}

    def line(self, role: str, text: str, at: float, **extra: Any) -> dict[str, Any]:
        entry = {**self._stamp(at), "role": role, "text": text, **extra}  # role: caller | agent, as the driver
        self.transcript.append(entry)
        self._dirty.set()
        return entry

    def amend(self, entry: dict[str, Any], **values: Any) -> None:
        entry.update(values)
        self._dirty.set()

    def latency(self, ms: int) -> None:
        self.latencies_ms.append(ms)
        self._dirty.set()

    def set(self, **values: Any) -> None:
        self._fields.update(values)
        self._dirty.set()

    async def _write_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    await self._dirty.wait()
            except TimeoutError:
                await self._beat()  # nothing new to write: still show the call is alive
                continue
            self._dirty.clear()
            await self._write()
            if self._closed and not self._dirty.is_set():
                return

    async def _write(self) -> None:
        async with self._lock:
            values = {
                "transcript": list(self.transcript),
                "latencies_ms": list(self.latencies_ms),
                **self._fields,
                "heartbeat_at": self.clock.now(),
                "instance_id": self.instance_id,
            }
            try:
                await records.update_call(self.db, self.call_sid, **values)
            except Exception:
                log.exception("call.record_write_failed")

    async def _beat(self) -> None:
        async with self._lock:
            try:
                await records.update_call(self.db, self.call_sid, heartbeat_at=self.clock.now())
            except Exception:
                log.exception("call.heartbeat_failed")

    async def flush(self) -> None:
        """Write everything now (before the call reports its end to anyone)."""
        await self._write()

    async def ended(self, *, transferred: bool, reason: str) -> None:
        """The call is over: write how and when it ended, then hand it to `records.settle` (a text-back and the
        owner's note when it came to nothing). Written before anyone is told the call ended."""
        now = self.clock.now()
        self.set(
            status="transferred" if transferred else "completed",
            ended_at=now,
            duration_seconds=max(0, int((now - self.started_at).total_seconds())),
            end_reason=reason[:64],
        )
        await self.flush()
        try:
            await records.settle(self.db, self.call_sid, now=now, reason=f"bridge:{reason}")
        except Exception:
            log.exception("call.settle_failed")

    async def close(self) -> None:
        """Write the final state and stop the writer. The writer is never cancelled mid-write: a cancelled
        SQLite statement can leave its connection holding the write lock."""
        self._closed = True
        self._dirty.set()
        if self._writer is None or self._writer.done():
            await self._write()
            return
        await asyncio.shield(self._writer)
