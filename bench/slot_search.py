"""Local slot search: 14 days, 2 team members, 3 services, 5,000 existing bookings.

Run: python bench/slot_search.py [--rounds N]

Prints median and p95 milliseconds for
  1. the slot math alone, on bookings preloaded in memory (availability.free_slots),
  2. the embedded calendar end to end on SQLite (LocalCalendar.find_slots: query + math),
  3. a find_slots answered by the warm slot cache (CachedCalendar over the same LocalCalendar),
with the ratio to the targets (10 ms for a local search, 2 ms for the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from silentpartner.business import Business, demo_businesses
from silentpartner.calendar import availability
from silentpartner.calendar.availability import Busy
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.local import LocalCalendar
from silentpartner.clock import FixedClock
from silentpartner.store import migrate
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tue 10:00 in Portland
BOOKINGS = 5_000
DAYS = 14
SEARCH_TARGET_MS = 10.0
CACHE_TARGET_MS = 2.0


def make_bookings(business: Business, count: int, seed: int = 7) -> list[BookingRecord]:
    """`count` bookings spread over 90 days either side of now, on the grid, across members and services."""
    rng = random.Random(seed)
    tz = business.tz
    today = NOW.astimezone(tz).date()
    records = []
    for i in range(count):
        service = rng.choice(business.services)
        members = business.team_for(service.slug)
        member = rng.choice(members).name if members else None
        day = today + timedelta(days=rng.randint(-90, 90))
        start = datetime(day.year, day.month, day.day, rng.randint(7, 19), rng.choice((0, 30)), tzinfo=tz)
        records.append(
            BookingRecord(
                uid=f"bench_{i}",
                business=business.slug,
                backend="local",
                service=service.slug,
                start_at=start.astimezone(UTC),
                end_at=(start + service.duration).astimezone(UTC),
                team_member=member,
                attendee_name=f"Customer {i}",
                attendee_phone=f"+1503555{i % 10_000:04d}",
                address=f"{rng.randint(1, 400)} Oak St",
                status="accepted",
                source="call",
                metadata_json={},
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return records


def summarize(label: str, samples_ms: list[float], target_ms: float) -> None:
    ordered = sorted(samples_ms)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{label:<44} median {median:7.3f} ms   p95 {p95:7.3f} ms   "
        f"target {target_ms:g} ms: {median / target_ms:5.2f}x of target ({'OK' if median < target_ms else 'MISS'})"
    )


def bench_memory(business: Business, records: list[BookingRecord], rounds: int) -> tuple[list[float], int]:
    busy = [
        Busy.of(business, r.service, r.start_at, r.end_at, team_member=r.team_member, address=r.address, ref=r.uid)
        for r in records
    ]
    window = (NOW, NOW + timedelta(days=DAYS))
    samples, found = [], 0
    for i in range(rounds):
        service = business.services[i % len(business.services)].slug
        t0 = time.perf_counter()
        slots = availability.distinct_starts(
            availability.free_slots(business, service, busy, now=NOW, window_start=window[0], window_end=window[1])
        )
        samples.append((time.perf_counter() - t0) * 1000)
        found += len(slots)
    return samples, found // rounds


async def bench_sqlite(business: Business, records: list[BookingRecord], rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            await migrate.upgrade(db)
            async with db.session() as session:
                session.add_all(records)
            clock = FixedClock(NOW)
            calendar = LocalCalendar(business, db, clock)
            window = (NOW, NOW + timedelta(days=DAYS))
            services = [s.slug for s in business.services]
            await calendar.find_slots(services[0], *window)  # first query pays for connection setup
            local_ms = []
            for i in range(rounds):
                t0 = time.perf_counter()
                await calendar.find_slots(services[i % len(services)], *window)
                local_ms.append((time.perf_counter() - t0) * 1000)

            cache = SlotCache(clock, days=DAYS, ttl=timedelta(hours=1))
            cached = CachedCalendar(calendar, cache)
            await cache.warm(business)
            tomorrow = NOW.astimezone(business.tz).date() + timedelta(days=1)
            day_start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=business.tz)
            cache_ms = []
            for i in range(rounds * 10):
                t0 = time.perf_counter()
                await cached.find_slots(services[i % len(services)], day_start, day_start + timedelta(days=1))
                cache_ms.append((time.perf_counter() - t0) * 1000)
            await cache.close()
            return {"sqlite": local_ms, "cache": cache_ms}
        finally:
            await db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="searches per measurement (default 60)")
    args = parser.parse_args()
    business = demo_businesses().get("mikes-plumbing")
    records = make_bookings(business, BOOKINGS)
    in_window = sum(1 for r in records if NOW <= r.start_at < NOW + timedelta(days=DAYS))
    print(
        f"{business.name}: {len(business.team)} team members, {len(business.services)} services, "
        f"{BOOKINGS} bookings ({in_window} in the {DAYS}-day window), {args.rounds} searches each"
    )
    memory_ms, per_search = bench_memory(business, records, args.rounds)
    summarize(f"slot math, in memory ({per_search} starts/search)", memory_ms, SEARCH_TARGET_MS)
    timings = asyncio.run(bench_sqlite(business, make_bookings(business, BOOKINGS), args.rounds))
    summarize("LocalCalendar.find_slots on SQLite", timings["sqlite"], SEARCH_TARGET_MS)
    summarize("warm SlotCache find_slots (one day)", timings["cache"], CACHE_TARGET_MS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
