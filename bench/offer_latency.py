"""Offer latency: a Cal.com round trip (local Cal.com v2 server with 300 ms latency) versus the warm cache.

Run: python bench/offer_latency.py [--rounds N] [--latency-ms MS]

Both sides answer the same question a caller asks ("tomorrow afternoon" for a service call) through the
same CalcomCalendar: once straight to the server (every request validated against the OpenAPI spec, as
in the tests), once through CachedCalendar after `SlotCache.warm`. Prints median and p95 milliseconds,
the ratio, and the cache against its 2 ms target.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from silentpartner.business import Business, Service, demo_businesses
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.calcom import CalcomCalendar
from silentpartner.calendar.calcom_http import CalcomClient
from silentpartner.clock import FixedClock
from tests.support.fake_calcom import EventType, FakeCalcom

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tue 10:00 in Portland
KEY = "cal_bench_key"
CACHE_TARGET_MS = 2.0


def business() -> Business:
    demo = demo_businesses().get("mikes-plumbing")
    services = (
        Service(slug="service-call", name="service call", duration_minutes=60, calcom_event_type_id=101),
        Service(slug="estimate", name="free estimate", duration_minutes=30, calcom_event_type_id=103),
    )
    return demo.model_copy(update={"calendar": "calcom", "services": services, "team": ()})


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(label: str, values: list[float]) -> tuple[float, float]:
    median, p95 = statistics.median(values), percentile(values, 0.95)
    print(f"{label:<28} median {median:9.3f} ms   p95 {p95:9.3f} ms   (n={len(values)})")
    return median, p95


async def run(rounds: int, latency_ms: float) -> None:
    clock = FixedClock(NOW)
    fake = FakeCalcom(now=clock.now, api_keys=(KEY,), latency_seconds=latency_ms / 1000)
    fake.add_event_type(EventType(101, "service-call", "Service call", 60, minimum_notice=120, requires_email=False))
    fake.add_event_type(EventType(103, "estimate", "Estimate", 30, requires_email=False))
    server = fake.serve()
    try:
        biz = business()
        tomorrow = (NOW.astimezone(biz.tz) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
        window = (tomorrow, tomorrow + timedelta(hours=5))
        async with httpx.AsyncClient() as http:
            calendar = CalcomCalendar(biz, CalcomClient(fake.url, KEY, http, timeout=10), None, clock)

            direct = []
            for _ in range(rounds):
                started = time.perf_counter()
                slots = await calendar.find_slots("service-call", *window)
                direct.append((time.perf_counter() - started) * 1000)
            assert slots, "the server offered nothing"

            cache = SlotCache(clock, days=7, ttl=timedelta(hours=1))
            cached = CachedCalendar(calendar, cache)
            started = time.perf_counter()
            await cache.warm(biz)
            warm_ms = (time.perf_counter() - started) * 1000
            served = []
            for _ in range(rounds * 100):
                started = time.perf_counter()
                hits = await cached.find_slots("service-call", *window)
                served.append((time.perf_counter() - started) * 1000)
            assert [s.start for s in hits] == [s.start for s in slots], "the cache disagrees with the server"
            await cache.close()
    finally:
        fake.close()
        server.stop()

    print(f"Offer latency, server latency {latency_ms:.0f} ms, window {window[0]:%a %H:%M}-{window[1]:%H:%M} local")
    d_med, d_p95 = summary("Cal.com round trip", direct)
    c_med, c_p95 = summary("warm slot cache", served)
    print(f"{'cache warm-up (all services)':<28} {warm_ms:9.3f} ms")
    print(f"ratio (round trip / cache)    median {d_med / c_med:,.0f}x   p95 {d_p95 / c_p95:,.0f}x")
    verdict = "meets" if c_p95 < CACHE_TARGET_MS else "misses"
    print(f"cache p95 {c_p95:.3f} ms {verdict} the {CACHE_TARGET_MS} ms target")
    if fake.spec_violations:
        print("spec violations:", *fake.spec_violations, sep="\n  ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="round trips to the server (cache: 100x as many)")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="latency the local Cal.com server adds")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.latency_ms))


if __name__ == "__main__":
    main()
