"""The worker pool every call's heavy speech work shares: Whisper, the end-of-turn model and the voice.

One pool per process, as many worker threads as the process may use cores (the models run one thread per
job: on 2 cores two jobs run at once, and an eight-call burst queues instead of oversubscribing the CPU).
The models release the GIL while they compute, so the event loop keeps serving frames meanwhile.

Jobs wait in priority order, first come first served within a priority:
- REPLY: the first sentence of a reply: the turn is decided and only its first audio is missing, so it
  goes ahead of everything (it takes 15-30 ms; in a burst of turns, finishing the turns nearest to done
  first keeps every turn's wait shorter than serving them strictly in arrival order);
- URGENT: what a caller is waiting on now: the turn's transcript and end-of-turn score at a pause;
- NORMAL: later sentences of a reply (rendered while the first one plays);
- BACKGROUND: transcribing a turn before its pause is certain. Only offered when a worker is idle and
  nothing is waiting (`offer`), and never on the last idle worker of several, so work a caller is waiting
  for always finds a worker free.
A job still waiting can be cancelled (its call moved on); one already running finishes.

Jobs of the same `batch` kind that are waiting together may be run as one batch by a worker
(`submit(..., batch=(key, fn))`): `fn` takes the list of their arguments and returns the list of results.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

REPLY, URGENT, NORMAL, BACKGROUND = 0, 1, 2, 3


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    future: concurrent.futures.Future[Any] = field(compare=False)
    batch_key: str | None = field(default=None, compare=False)
    batch_fn: Callable[[list[tuple[Any, ...]]], list[Any]] | None = field(default=None, compare=False)
    queued_at: float = field(default=0.0, compare=False)


@dataclass
class PoolStats:
    """What the pool has done so far (for benches and logs)."""

    jobs: int = 0  # taken by a worker (counted before they run)
    batches: int = 0  # runs that took more than one job
    failed: int = 0
    waited_s: float = 0.0  # total time jobs spent queued
    busy_s: float = 0.0  # total time workers spent running jobs


class SpeechPool:
    def __init__(self, workers: int | None = None, *, name: str = "speech", max_batch: int = 4) -> None:
        self.workers = workers if workers is not None else available_cores()
        if self.workers < 1:
            raise ValueError("a pool needs at least one worker")
        self.name = name
        self.max_batch = max_batch
        self.stats = PoolStats()
        self._queue: list[_Job] = []
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._running = 0  # jobs (or batches) being run now
        self._background = 0  # of which BACKGROUND jobs
        self._closed = False

    # -- submitting ---------------------------------------------------------------------------------------

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        priority: int = NORMAL,
        batch: tuple[str, Callable[[list[tuple[Any, ...]]], list[Any]]] | None = None,
    ) -> concurrent.futures.Future[Any]:
        """Queue fn(*args); the future has its result or its exception."""
        with self._lock:
            return self._enqueue(fn, args, priority, batch)

    def offer(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any] | None:
        """Queue fn(*args) as BACKGROUND work only if a worker is free now, nothing is waiting, and (with more
        than one worker) another worker stays free for urgent work; otherwise None (the caller does without)."""
        with self._lock:
            if self._queue or self._running >= self.workers or self._background >= max(1, self.workers - 1):
                return None
            return self._enqueue(fn, args, BACKGROUND, None)

    async def run(self, fn: Callable[..., Any], *args: Any, priority: int = NORMAL, **options: Any) -> Any:
        """Submit and await; cancelling the awaiting task cancels the job if it has not started."""
        return await wait(self.submit(fn, *args, priority=priority, **options))

    @property
    def idle(self) -> bool:
        """A worker is free and nothing is waiting."""
        with self._lock:
            return not self._queue and self._running < self.workers

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Stop the workers once the queue is empty (tests; the process-wide pool lives as long as the process)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        for thread in self._threads:
            thread.join()

    # -- workers ------------------------------------------------------------------------------------------

    def _enqueue(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        priority: int,
        batch: tuple[str, Callable[[list[tuple[Any, ...]]], list[Any]]] | None,
    ) -> concurrent.futures.Future[Any]:
        if self._closed:
            raise RuntimeError(f"the {self.name} pool is closed")
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        key, batch_fn = batch if batch is not None else (None, None)
        job = _Job(priority, next(self._seq), fn, args, future, key, batch_fn, time.perf_counter())
        heapq.heappush(self._queue, job)
        if len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._lock.notify()
        return future

    def _take(self) -> list[_Job] | None:
        """The next job, with the waiting jobs of its batch kind; None when closed and drained."""
        with self._lock:
            while True:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if not self._queue:
                    return None
                first = heapq.heappop(self._queue)
                if not first.future.set_running_or_notify_cancel():
                    continue  # cancelled while it waited
                jobs = [first]
                if first.batch_key is not None and self.max_batch > 1:
                    jobs += self._batch_mates(first)
                self._running += 1
                self._background += first.priority == BACKGROUND
                now = time.perf_counter()
                self.stats.jobs += len(jobs)
                self.stats.batches += len(jobs) > 1
                self.stats.waited_s += sum(now - job.queued_at for job in jobs)
                return jobs

    def _batch_mates(self, first: _Job) -> list[_Job]:
        mates = sorted(job for job in self._queue if job.batch_key == first.batch_key)
        taken: list[_Job] = []
        for job in mates:
            if len(taken) + 1 >= self.max_batch:
                break
            self._queue.remove(job)
            if job.future.set_running_or_notify_cancel():
                taken.append(job)
        heapq.heapify(self._queue)
        return taken

    def _work(self) -> None:
        while (jobs := self._take()) is not None:
            started = time.perf_counter()
            try:
                if len(jobs) == 1:
                    self._run_one(jobs[0])
                else:
                    self._run_batch(jobs)
            finally:
                with self._lock:
                    self._running -= 1
                    self._background -= jobs[0].priority == BACKGROUND
                    self.stats.busy_s += time.perf_counter() - started

    def _run_one(self, job: _Job) -> None:
        try:
            result = job.fn(*job.args)
        except BaseException as error:  # the job's failure is its caller's, never the worker's
            self._fail(job, error)
        else:
            job.future.set_result(result)

    def _run_batch(self, jobs: list[_Job]) -> None:
        batch_fn = jobs[0].batch_fn
        assert batch_fn is not None
        try:
            results = batch_fn([job.args for job in jobs])
            if len(results) != len(jobs):
                raise RuntimeError(f"a batch of {len(jobs)} gave {len(results)} results")
        except BaseException:
            for job in jobs:  # the batch failed: run each alone, so one bad input fails only its own job
                self._run_one(job)
            return
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)

    def _fail(self, job: _Job, error: BaseException) -> None:
        with self._lock:
            self.stats.failed += 1
        job.future.set_exception(error)


async def wait(future: concurrent.futures.Future[Any]) -> Any:
    """Await a pool job; if the awaiting task is cancelled, so is the job (when it has not started)."""
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        future.cancel()
        raise
