"""The speech worker pool: bounded, ordered by priority, batching, failures kept to their own job; and the
offline engine's one Whisper model shared by every worker."""

from __future__ import annotations

import asyncio
import threading

import pytest

from silentpartner.voice.speech.pool import BACKGROUND, NORMAL, REPLY, URGENT, SpeechPool, available_cores

WAIT = 10  # seconds; generous bound on waiting for a thread, never a timing assertion


class Gate:
    """Jobs that block until released, recording how many run at once and in what order they started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def job(self, name: str) -> str:
        with self._lock:
            self.started.append(name)
            self.running += 1
            self.most = max(self.most, self.running)
            self._changed.notify_all()
        self.release.wait(WAIT)
        with self._lock:
            self.running -= 1
        return name

    def wait_running(self, count: int) -> None:
        with self._lock:
            assert self._changed.wait_for(lambda: self.running >= count, WAIT)


@pytest.fixture
def pool():
    made: list[SpeechPool] = []

    def make(workers: int, **options) -> SpeechPool:
        made.append(SpeechPool(workers, **options))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_the_default_size_is_the_cores_this_process_may_use() -> None:
    assert SpeechPool().workers == available_cores() >= 1


def test_no_more_jobs_run_at_once_than_there_are_workers(pool) -> None:
    p, gate = pool(2), Gate()
    futures = [p.submit(gate.job, f"job{i}") for i in range(6)]
    gate.wait_running(2)
    assert gate.running == 2 and p.waiting == 4
    gate.release.set()
    assert [f.result(WAIT) for f in futures] == [f"job{i}" for i in range(6)]
    assert gate.most == 2
    assert p.stats.jobs == 6


def test_waiting_jobs_run_by_priority_then_in_order(pool) -> None:
    p, gate = pool(1), Gate()
    blocker = p.submit(gate.job, "blocker")
    gate.wait_running(1)
    order = [("a", NORMAL), ("b", URGENT), ("c", BACKGROUND), ("d", NORMAL), ("e", URGENT), ("f", REPLY)]
    futures = [p.submit(gate.job, name, priority=priority) for name, priority in order]
    gate.release.set()
    for future in [blocker, *futures]:
        future.result(WAIT)
    assert gate.started == ["blocker", "f", "b", "e", "a", "d", "c"]


def test_background_work_is_only_taken_when_a_worker_is_idle(pool) -> None:
    p, gate = pool(1), Gate()
    assert p.idle
    blocker = p.submit(gate.job, "blocker")
    gate.wait_running(1)
    assert p.offer(gate.job, "early") is None  # the only worker is busy: do without
    gate.release.set()
    blocker.result(WAIT)
    offered = p.offer(lambda: "early")
    assert offered is not None and offered.result(WAIT) == "early"


def test_background_work_leaves_a_worker_free_for_urgent_work(pool) -> None:
    p, gate = pool(2), Gate()
    early = p.offer(gate.job, "early")
    assert early is not None
    gate.wait_running(1)
    assert p.offer(gate.job, "second early") is None  # the last free worker is kept for urgent work
    urgent = p.submit(gate.job, "urgent", priority=URGENT)
    gate.wait_running(2)  # it found a worker at once
    gate.release.set()
    assert urgent.result(WAIT) == "urgent" and early.result(WAIT) == "early"


def test_a_failing_job_fails_alone_and_the_pool_goes_on(pool) -> None:
    p = pool(2)

    def broken() -> None:
        raise ValueError("bad audio")

    failed = p.submit(broken)
    with pytest.raises(ValueError, match="bad audio"):
        failed.result(WAIT)
    assert [p.submit(lambda i=i: i * 2).result(WAIT) for i in range(4)] == [0, 2, 4, 6]
    assert p.stats.failed == 1


def test_a_cancelled_job_that_has_not_started_never_runs(pool) -> None:
    p, gate = pool(1), Gate()
    blocker = p.submit(gate.job, "blocker")
    gate.wait_running(1)
    dropped = p.submit(gate.job, "dropped")
    kept = p.submit(gate.job, "kept")
    assert dropped.cancel()
    gate.release.set()
    assert kept.result(WAIT) == "kept" and blocker.result(WAIT) == "blocker"
    assert gate.started == ["blocker", "kept"]


async def test_cancelling_the_awaiting_task_cancels_the_waiting_job(pool) -> None:
    p, gate = pool(1), Gate()
    blocker = p.submit(gate.job, "blocker")
    await asyncio.to_thread(gate.wait_running, 1)
    task = asyncio.create_task(p.run(gate.job, "abandoned"))
    await asyncio.sleep(0)  # the task runs up to awaiting its job, which is queued by then
    assert p.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.release.set()
    blocker.result(WAIT)
    assert await p.run(lambda: "after") == "after"
    assert "abandoned" not in gate.started


def test_jobs_of_one_kind_waiting_together_run_as_one_batch(pool) -> None:
    p, gate = pool(1, max_batch=3), Gate()
    batches: list[list[tuple]] = []

    def double_all(items: list[tuple]) -> list[int]:
        batches.append(items)
        return [x * 2 for (x,) in items]

    blocker = p.submit(gate.job, "blocker")
    gate.wait_running(1)
    batch = ("double", double_all)
    futures = [p.submit(lambda x: x * 2, x, batch=batch) for x in (1, 2, 3, 4)]
    other = p.submit(gate.job, "other")
    gate.release.set()
    assert [f.result(WAIT) for f in futures] == [2, 4, 6, 8]
    assert other.result(WAIT) == "other" and blocker.result(WAIT) == "blocker"
    assert batches == [[(1,), (2,), (3,)]]  # at most max_batch; the fourth ran alone
    assert p.stats.batches == 1


def test_a_failed_batch_is_run_job_by_job_so_only_the_bad_one_fails(pool) -> None:
    p, gate = pool(1), Gate()

    def halve(x: int) -> float:
        if x == 0:
            raise ZeroDivisionError("no audio")
        return 1 / x

    def halve_all(items: list[tuple]) -> list[float]:
        return [halve(x) for (x,) in items]

    blocker = p.submit(gate.job, "blocker")
    gate.wait_running(1)
    futures = [p.submit(halve, x, batch=("halve", halve_all)) for x in (1, 0, 4)]
    gate.release.set()
    blocker.result(WAIT)
    assert futures[0].result(WAIT) == 1.0 and futures[2].result(WAIT) == 0.25
    with pytest.raises(ZeroDivisionError):
        futures[1].result(WAIT)
