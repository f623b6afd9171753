"""The job worker: a loop in every instance that claims due jobs and runs them by kind.

It wakes at once when this process enqueues a job (an asyncio.Event set from `jobs.on_enqueue`) and
otherwise polls every `poll_interval` seconds, so jobs enqueued by other instances, and jobs whose
`run_at` arrives, are picked up promptly. Claiming is exactly-once across instances (see
`store/jobs.py`); a handler that raises is retried with backoff and parked after its attempts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from silentpartner import metrics
from silentpartner.logs import log_event
from silentpartner.store import jobs
from silentpartner.store.models import Job

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger("silentpartner.messaging.worker")

Handler = Callable[["Runtime", Job], Awaitable[None]]
ORDERED_KINDS = frozenset({"process_webhook"})


def new_worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobWorker:
    """Runs due jobs in this process. `handlers` defaults to the product's (messaging/handlers.py)."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 10,
        concurrency: int = 4,
        handlers: Mapping[str, Handler] | None = None,
        schedule_recurring: bool = True,
    ) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._handlers = handlers
        self.schedule_recurring = schedule_recurring
        self.runtime: Runtime | None = None
        self.ran = 0
        self.failed = 0
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unsubscribe: Callable[[], None] | None = None
        self._idle: asyncio.Condition | None = None  # made in start(), inside the loop

    @property
    def handlers(self) -> Mapping[str, Handler]:
        if self._handlers is None:
            from silentpartner.messaging.handlers import HANDLERS

            self._handlers = HANDLERS
        return self._handlers

    async def start(self, runtime: Runtime) -> None:
        self.runtime = runtime
        if not runtime.settings.run_jobs:
            log_event(log, "worker.disabled", reason="RUN_JOBS=false")
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Condition()
        self._stopping = False
        self._unsubscribe = jobs.on_enqueue(self.poke)
        if self.schedule_recurring:
            from silentpartner.messaging.handlers import schedule_recurring

            try:
                await schedule_recurring(runtime)
            except Exception:  # a failure here must not stop the instance from serving
                log.exception("worker.schedule_recurring_failed")
        self._task = asyncio.create_task(self._run(), name=f"job-worker:{self.worker_id}")
        log_event(log, "worker.started", worker=self.worker_id)

    def poke(self) -> None:
        """Wake the loop (safe from any thread: enqueues may commit on another loop's thread)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            if asyncio.get_running_loop() is loop:
                wake.set()
                return
        except RuntimeError:
            pass
        loop.call_soon_threadsafe(wake.set)

    async def stop(self) -> None:
        self._stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            self._task = None
        sender = self.runtime.sms if self.runtime is not None else None
        if self.runtime is not None:
            self.runtime.sms = None
        if sender is not None:
            await sender.close()  # the Twilio client's HTTP session belongs to this loop
        log_event(log, "worker.stopped", worker=self.worker_id, ran=self.ran, failed=self.failed)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                done = await self.run_once()
            except Exception:
                log.exception("worker.claim_failed")
                done = 0
            if done:
                continue  # there may be more due right now
            await self._notify_idle()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass

    async def run_once(self) -> int:
        """Claim one batch of due jobs and run them; returns how many were claimed."""
        runtime = self.runtime
        assert runtime is not None, "start the worker first"
        async with runtime.db.session() as session:
            claimed = await jobs.claim(session, self.worker_id, now=runtime.clock.now(), limit=self.batch_size)
        if not claimed:
            return 0
        limit = asyncio.Semaphore(self.concurrency)

        async def run(group: list[Job]) -> None:
            async with limit:
                for job in group:
                    await self._run_job(runtime, job)

        # Webhook deliveries are applied in the order they arrived (a cancel must not overtake its create);
        # everything else runs side by side.
        ordered = [job for job in claimed if job.kind in ORDERED_KINDS]
        groups = [[job] for job in claimed if job.kind not in ORDERED_KINDS]
        if ordered:
            groups.insert(0, ordered)
        await asyncio.gather(*(run(group) for group in groups))
        return len(claimed)

    async def _run_job(self, runtime: Runtime, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            await handler(runtime, job)
        except Exception as exc:
            self.failed += 1
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
            async with runtime.db.session() as session:
                status = await jobs.fail(session, job.id, error, now=runtime.clock.now(), worker_id=self.worker_id)
            metrics.current().job_failed(job.kind, status)
            log_event(
                log,
                "job.failed",
                logging.WARNING,
                job_id=job.id,
                kind=job.kind,
                business=job.business,
                attempt=job.attempts,
                status=status,
                error=repr(exc),
            )
            return
        async with runtime.db.session() as session:
            await jobs.complete(session, job.id, now=runtime.clock.now(), worker_id=self.worker_id)
        self.ran += 1
        log_event(log, "job.done", job_id=job.id, kind=job.kind, business=job.business)

    async def _notify_idle(self) -> None:
        assert self._idle is not None
        async with self._idle:
            self._idle.notify_all()

    async def until_idle(self, wait_seconds: float = 10) -> None:
        """Wait until the loop finds nothing due (tests; an orderly drain).

        Two idle rounds: the first may have begun before the caller's last enqueue committed."""
        assert self._idle is not None and self._wake is not None
        for _ in range(2):
            async with self._idle:
                self._wake.set()
                await asyncio.wait_for(self._idle.wait(), timeout=wait_seconds)
