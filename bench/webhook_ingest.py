"""Webhook ingest: Cal.com deliveries verified (X-Cal-Signature-256), deduplicated and stored (the delivery
and its processing job, one transaction) per second, through the real app under uvicorn on a loopback port,
on SQLite and on PostgreSQL.

The app runs with no job worker, so what is measured is the route alone: what a burst of deliveries costs
before any of them is processed. A client in this process keeps `--concurrency` requests in flight; one
delivery in five is a redelivery of an earlier one (a proxy retry, a replay), which must be answered
"duplicate" and stored once. Every answer is checked (each delivery accepted once, whichever of its copies
came first; the others duplicates), and so is the row count afterwards.

Run: python bench/webhook_ingest.py [--quick] [--deliveries N] [--concurrency C]
PostgreSQL is 127.0.0.1:5432 (TEST_PG_* variables as in the tests); without it that half says why it did
not run. `run(quick=False)` returns the figures as a dict (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import func, select

from silentpartner.app import create_app
from silentpartner.clock import FixedClock
from silentpartner.settings import Settings
from silentpartner.store import Database
from silentpartner.store.models import Job, WebhookEvent
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_unavailable_reason,
    postgres_url,
)
from tests.support.servers import LiveServer

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
SECRET = "whsec-bench-0123456789"
REDELIVERY_EVERY = 5


def delivery(n: int) -> bytes:
    """A BOOKING_CREATED envelope as Cal.com sends it, unique per `n`."""
    start = NOW + timedelta(days=1, minutes=30 * (n % 16))
    envelope = {
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": (NOW + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
        "payload": {
            "uid": f"benchuid{n:08d}",
            "eventTypeId": 101,
            "title": "Service call",
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "endTime": (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "status": "ACCEPTED",
            "responses": {"name": "Pat Jones", "attendeePhoneNumber": "+15035550111", "address": "123 Main St"},
            "attendees": [{"name": "Pat Jones", "timeZone": "America/Los_Angeles", "phoneNumber": "+15035550111"}],
            "metadata": {},
        },
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def signed(raw: bytes) -> dict[str, str]:
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Cal-Signature-256": signature}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def ingest(database_url: str, deliveries: int, concurrency: int) -> dict[str, float]:
    settings = Settings(database_url=database_url, calcom_webhook_secret=SECRET, log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, clock=FixedClock(NOW), components=list)
    # Unique deliveries, with every fifth request a redelivery of the one before it.
    plan: list[tuple[int, bool]] = []  # (delivery, is a redelivery)
    unique = 0
    while len(plan) < deliveries:
        if plan and len(plan) % REDELIVERY_EVERY == REDELIVERY_EVERY - 1:
            plan.append((unique - 1, True))
        else:
            plan.append((unique, False))
            unique += 1
    bodies = {n: delivery(n) for n, _ in plan}
    latencies: list[float] = []
    wrong: list[str] = []
    answers: dict[int, list[str]] = {}
    with LiveServer(app) as server:
        url = server.url + "/webhooks/calcom"
        queue: asyncio.Queue[tuple[int, bool]] = asyncio.Queue()
        for item in plan:
            queue.put_nowait(item)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            # One warm-up request, not counted (first-request costs: imports, the connection pool).
            await http.post(url, content=delivery(10**7), headers=signed(delivery(10**7)))

            async def sender() -> None:
                while not queue.empty():
                    n, _redelivery = queue.get_nowait()
                    raw = bodies[n]
                    started = time.perf_counter()
                    response = await http.post(url, content=raw, headers=signed(raw))
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        wrong.append(f"{n}: {response.status_code} {response.text[:80]}")
                    else:
                        answers.setdefault(n, []).append(response.json().get("status"))

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
    db = Database(database_url)
    try:
        async with db.session() as session:
            stored = await session.scalar(select(func.count()).select_from(WebhookEvent))
            jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == "process_webhook"))
    finally:
        await db.close()
    wrong += [
        f"{n}: {got}" for n, got in answers.items() if sorted(got) != ["accepted"] + ["duplicate"] * (len(got) - 1)
    ]
    assert not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[:3]}"
    assert stored == jobs == unique + 1, f"stored {stored} deliveries and {jobs} jobs for {unique + 1} unique"
    return {
        "deliveries_per_s": len(plan) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "deliveries": float(len(plan)),
        "redeliveries": float(len(plan) - unique),
    }


def measure(quick: bool = False, deliveries: int | None = None, concurrency: int = 8) -> dict[str, object]:
    deliveries = deliveries or (300 if quick else 2000)
    figures: dict[str, object] = {"concurrency": concurrency}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = asyncio.run(ingest(f"sqlite+aiosqlite:///{folder}/ingest.db", deliveries, concurrency))
    figures.update({f"sqlite_{k}": v for k, v in sqlite.items()})
    reason = postgres_unavailable_reason()
    if reason:
        figures["postgres"] = f"not run: {reason}"
        return figures
    name = create_postgres_database()
    try:
        postgres = asyncio.run(ingest(postgres_url(name), deliveries, concurrency))
    finally:
        drop_postgres_database(name)
    figures.update({f"postgres_{k}": v for k, v in postgres.items()})
    figures["ratio_postgres_to_sqlite"] = postgres["deliveries_per_s"] / sqlite["deliveries_per_s"]
    return figures


def run(quick: bool = False) -> dict[str, object]:
    """The figures, for bench/run_all.py."""
    return measure(quick)


def report(f: dict[str, Any]) -> None:
    print(f"Webhook ingest through the app (verified, deduplicated, stored), {f['concurrency']} in flight")
    for db in ("sqlite", "postgres"):
        if f"{db}_deliveries_per_s" not in f:
            print(f"  {db:<9} {f.get(db, 'not run')}")
            continue
        print(
            f"  {db:<9} {f[f'{db}_deliveries_per_s']:8.0f} deliveries/s   p50 {f[f'{db}_p50_ms']:6.1f} ms   "
            f"p95 {f[f'{db}_p95_ms']:6.1f} ms   ({f[f'{db}_deliveries']:.0f}, {f[f'{db}_redeliveries']:.0f} "
            "of them redeliveries)"
        )
    if "ratio_postgres_to_sqlite" in f:
        print(f"  PostgreSQL / SQLite: {f['ratio_postgres_to_sqlite']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 deliveries a database instead of 2000")
    parser.add_argument("--deliveries", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    args = parser.parse_args()
    report(measure(args.quick, args.deliveries, args.concurrency))


if __name__ == "__main__":
    main()
