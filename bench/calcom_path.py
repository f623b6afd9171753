"""The Cal.com path, against the local Cal.com v2 server (tests/support, every request checked against the
OpenAPI spec) started in this process with a set latency per request:

1. Offer: a caller's question ("tomorrow afternoon" for a service call) answered live, straight from Cal.com,
   and from the warm slot cache (`CachedCalendar` after `SlotCache.warm`). Median and p95 ms, and the ratio.
2. Booking round trip: hold the slot the caller accepted, then book it (`CachedCalendar.hold` + `book`, what a
   call does), one slot after another. Median and p95 ms.
3. The 120-a-minute limit: the server throttles a key as Cal.com does (120 requests per 60 s, then the key is
   blocked for 60 s). A burst of live offers, first with the client's own limiter out of the way (as when
   another process spends the same key): how many went through, how many the server refused (429), and
   what a caller on the line (`patience.interactive`) gets once the key is blocked (a quick refusal, not a
   60 s wait: how long it took), while offers from the warm cache go on. Then with the client's default
   limiter (100 a minute, room left for a second process): the server never refuses the key.

Run: python bench/calcom_path.py [--quick] [--rounds N] [--latency-ms MS]
`run(quick=False)` returns the figures as a dict (for bench/run_all.py).
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
from silentpartner.calendar import patience
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.calcom import CalcomCalendar
from silentpartner.calendar.calcom_http import CalcomClient, RateLimited, RateLimiter
from silentpartner.calendar.port import BookingRequest, CalendarUnavailable
from silentpartner.clock import FixedClock
from tests.support.fake_calcom import EventType, FakeCalcom, Host

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tue 10:00 in Portland
KEY = "cal_bench_key"
CACHE_TARGET_MS = 2.0
SERVER_LIMIT = 120  # Cal.com's default per API key and minute
MIKE = Host(11, "Mike", "mike@example.com", "mike")


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


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _server(latency_ms: float, **limits: float) -> FakeCalcom:
    fake = FakeCalcom(now=FixedClock(NOW).now, api_keys=(KEY,), latency_seconds=latency_ms / 1000, **limits)
    fake.add_event_type(
        EventType(101, "service-call", "Service call", 60, minimum_notice=120, requires_email=False, hosts=[MIKE])
    )
    fake.add_event_type(EventType(103, "estimate", "Estimate", 30, requires_email=False, hosts=[MIKE]))
    return fake


def _window(biz: Business) -> tuple[datetime, datetime]:
    tomorrow = (NOW.astimezone(biz.tz) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    return tomorrow, tomorrow + timedelta(hours=5)


async def offers_and_bookings(rounds: int, latency_ms: float, bookings: int) -> dict[str, object]:
    clock = FixedClock(NOW)
    fake = _server(latency_ms)
    server = fake.serve()
    biz = business()
    window = _window(biz)
    try:
        async with httpx.AsyncClient() as http:
            calendar = CalcomCalendar(biz, CalcomClient(fake.url, KEY, http, timeout=10), None, clock)
            live = []
            for _ in range(rounds):
                started = time.perf_counter()
                slots = await calendar.find_slots("service-call", *window)
                live.append(_ms(started))
            assert slots, "the server offered nothing"

            cache = SlotCache(clock, days=7, ttl=timedelta(hours=1))
            cached = CachedCalendar(calendar, cache)
            started = time.perf_counter()
            await cache.warm(biz)
            warm_ms = _ms(started)
            served = []
            for _ in range(rounds * 100):
                started = time.perf_counter()
                hits = await cached.find_slots("service-call", *window)
                served.append(_ms(started))
            assert [s.start for s in hits] == [s.start for s in slots], "the cache disagrees with the server"

            # Booking round trips: the next free slot each time (after a booking the cache refetches it).
            booked = []
            for n in range(bookings):
                await cache.drain()
                free = await cached.find_slots("service-call", window[0], window[0] + timedelta(days=6))
                slot = free[0]
                started = time.perf_counter()
                hold = await cached.hold(slot, holder=f"bench-{n}")
                request = BookingRequest(
                    service="service-call",
                    start=slot.start,
                    name="Pat Jones",
                    phone="+15035550111",
                    address="123 Main St",
                    hold_id=hold.id,
                    source="call",
                )
                await cached.book(request)
                booked.append(_ms(started))
            await cache.close()
    finally:
        fake.close()
        server.stop()
    violations = list(fake.spec_violations)
    return {
        "server_latency_ms": latency_ms,
        "offer_live_p50_ms": statistics.median(live),
        "offer_live_p95_ms": percentile(live, 0.95),
        "offer_cache_p50_ms": statistics.median(served),
        "offer_cache_p95_ms": percentile(served, 0.95),
        "offer_ratio_p50": statistics.median(live) / statistics.median(served),
        "cache_warm_all_services_ms": warm_ms,
        "cache_p95_meets_target": percentile(served, 0.95) < CACHE_TARGET_MS,
        "booking_round_trip_p50_ms": statistics.median(booked),
        "booking_round_trip_p95_ms": percentile(booked, 0.95),
        "bookings": len(booked),
        "spec_violations": len(violations),
    }


async def at_the_limit(burst: int) -> dict[str, object]:
    """A burst of live offers against a server that throttles like Cal.com (no added latency: the point is
    the count, not the wait)."""
    clock = FixedClock(NOW)
    biz = business()
    window = _window(biz)
    figures: dict[str, object] = {"burst": burst}

    # (a) Our limiter out of the way (another process spends the key too): the server blocks the key at 121.
    fake = _server(0.0, rate_limit=SERVER_LIMIT, rate_window_seconds=60.0, block_seconds=60.0)
    server = fake.serve()
    try:
        async with httpx.AsyncClient() as http:
            client = CalcomClient(fake.url, KEY, http, timeout=10, limiter=RateLimiter(limit=100_000))
            calendar = CalcomCalendar(biz, client, None, clock)
            cache = SlotCache(clock, days=7, ttl=timedelta(hours=1))
            cached = CachedCalendar(calendar, cache)
            await cache.warm(biz)  # one request per service
            before = fake.requests_to("GET", "/v2/slots")
            ok = refused = 0
            refusal_ms: list[float] = []
            for _ in range(burst):
                started = time.perf_counter()
                try:
                    with patience.interactive():
                        await calendar.find_slots("service-call", *window)
                    ok += 1
                except (RateLimited, CalendarUnavailable):
                    refused += 1
                    refusal_ms.append(_ms(started))
            figures["over_limit_offers_ok"] = ok
            figures["over_limit_offers_refused"] = refused
            figures["over_limit_refusal_p50_ms"] = statistics.median(refusal_ms) if refusal_ms else 0.0
            figures["over_limit_server_429s"] = fake.requests_to("GET", "/v2/slots") - before - ok
            # Meanwhile every offer from the warm cache still answers.
            from_cache = 0
            for _ in range(burst):
                with patience.interactive():
                    if await cached.find_slots("service-call", *window):
                        from_cache += 1
            figures["over_limit_cache_offers_ok"] = from_cache
            await cache.close()
    finally:
        fake.close()
        server.stop()

    # (b) The client's default limiter (100 a minute): the server never sees the 121st request.
    fake = _server(0.0, rate_limit=SERVER_LIMIT, rate_window_seconds=60.0, block_seconds=60.0)
    server = fake.serve()
    try:
        async with httpx.AsyncClient() as http:
            calendar = CalcomCalendar(biz, CalcomClient(fake.url, KEY, http, timeout=10), None, clock)
            ok = refused = 0
            for _ in range(burst):
                try:
                    with patience.interactive():
                        await calendar.find_slots("service-call", *window)
                    ok += 1
                except CalendarUnavailable:
                    refused += 1
            figures["default_limiter_offers_ok"] = ok
            figures["default_limiter_offers_refused"] = refused
            figures["default_limiter_server_saw"] = fake.requests_to("GET", "/v2/slots")
    finally:
        fake.close()
        server.stop()
    return figures


async def measure(quick: bool = False, rounds: int | None = None, latency_ms: float = 300.0) -> dict[str, object]:
    rounds = rounds or (5 if quick else 20)
    figures = await offers_and_bookings(rounds, latency_ms, bookings=3 if quick else 10)
    figures.update(await at_the_limit(burst=130 if quick else 150))
    return figures


def run(quick: bool = False) -> dict[str, object]:
    """The figures, for bench/run_all.py."""
    return asyncio.run(measure(quick))


def report(f: dict[str, object]) -> None:
    print(f"Cal.com path (local Cal.com v2 server, {f['server_latency_ms']:.0f} ms a request)")
    print(f"  offer live         p50 {f['offer_live_p50_ms']:9.3f} ms   p95 {f['offer_live_p95_ms']:9.3f} ms")
    print(f"  offer from cache   p50 {f['offer_cache_p50_ms']:9.3f} ms   p95 {f['offer_cache_p95_ms']:9.3f} ms")
    print(f"  ratio live / cache p50 {f['offer_ratio_p50']:,.0f}x")
    print(f"  cache warm-up (all services) {f['cache_warm_all_services_ms']:.1f} ms")
    verdict = "meets" if f["cache_p95_meets_target"] else "misses"
    print(f"  cache p95 {verdict} the {CACHE_TARGET_MS} ms target")
    print(
        f"  booking round trip (hold + book) p50 {f['booking_round_trip_p50_ms']:.1f} ms   "
        f"p95 {f['booking_round_trip_p95_ms']:.1f} ms   (n={f['bookings']})"
    )
    print(f"At the 120/min limit, a burst of {f['burst']} live offers:")
    print(
        f"  key shared, no client limit: {f['over_limit_offers_ok']} answered, {f['over_limit_offers_refused']} "
        f"refused ({f['over_limit_server_429s']} 429s from the server; a caller hears 'can't reach the calendar' "
        f"after {f['over_limit_refusal_p50_ms']:.2f} ms p50); cache offers meanwhile: "
        f"{f['over_limit_cache_offers_ok']} of {f['burst']}"
    )
    print(
        f"  default limiter (100/min): {f['default_limiter_offers_ok']} answered, "
        f"{f['default_limiter_offers_refused']} refused, the server saw {f['default_limiter_server_saw']}"
    )
    if f["spec_violations"]:
        print(f"  {f['spec_violations']} requests broke the OpenAPI spec")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 10 s)")
    parser.add_argument("--rounds", type=int, default=None, help="live offers (the cache: 100x as many)")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="latency the local Cal.com server adds")
    args = parser.parse_args()
    report(asyncio.run(measure(args.quick, args.rounds, args.latency_ms)))


if __name__ == "__main__":
    main()
