"""`GET /metrics` on a real uvicorn: Prometheus text the official parser reads, refused to anyone the
operator did not allow, one registry per app, and the job queue read from the database at each scrape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from silentpartner.app import create_app
from silentpartner.clock import FixedClock
from silentpartner.messaging.worker import JobWorker
from silentpartner.settings import ConfigError, Settings, load_settings
from silentpartner.store import jobs
from tests.conftest import PINNED_NOW
from tests.support.metrics_scrape import scrape
from tests.support.servers import LiveServer

TOKEN = "metrics-token-0123456789abcdef"


@contextmanager
def app_server(sqlite_url: str, components: list[Any] | None = None, **settings: Any) -> Iterator[LiveServer]:
    app = create_app(
        Settings(database_url=sqlite_url, _env_file=None, **settings),  # type: ignore[call-arg]
        clock=FixedClock(PINNED_NOW),
        components=lambda: list(components or []),
    )
    with LiveServer(app) as server:
        yield server


async def _get(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.get(url + "/metrics", headers=headers)


async def test_metrics_are_prometheus_text_with_every_family(sqlite_url: str) -> None:
    with app_server(sqlite_url) as server:
        scraped = await scrape(server.url)
    families = {name: kind for name, kind in scraped.families.items() if not name.endswith("_created")}
    assert families == {
        "silentpartner_calls_in_progress": "gauge",
        "silentpartner_calls": "counter",
        "silentpartner_turn_latency_seconds": "histogram",
        "silentpartner_bookings": "counter",
        "silentpartner_slot_cache_invalidations": "counter",
        "silentpartner_calcom_requests": "counter",
        "silentpartner_calcom_request_seconds": "histogram",
        "silentpartner_webhook_deliveries": "counter",
        "silentpartner_sms": "counter",
        "silentpartner_job_queue_depth": "gauge",
        "silentpartner_job_failures": "counter",
    }
    assert scraped.value("silentpartner_calls_in_progress") == 0
    assert scraped.value("silentpartner_job_queue_depth", state="due") == 0


async def test_without_a_token_only_this_machine_may_scrape(sqlite_url: str) -> None:
    with app_server(sqlite_url) as server:
        assert (await _get(server.url)).status_code == 200  # loopback, direct
        # A proxy on this machine passing on someone else's request: uvicorn trusts 127.0.0.1's
        # X-Forwarded-For, and the header alone says the request came from elsewhere.
        # `serve` trusts X-Forwarded-For from anyone (forwarded_allow_ips="*"): a stranger claiming to be
        # 127.0.0.1 is refused all the same.
        forwarded = ("203.0.113.9", "127.0.0.1")
        for header in (
            *({"X-Forwarded-For": address} for address in forwarded),
            {"Forwarded": "for=127.0.0.1"},
            {"X-Real-IP": "::1"},
        ):
            refused = await _get(server.url, **header)
            assert refused.status_code == 404 and "silentpartner" not in refused.text
        assert (await _get(server.url, Authorization=f"Bearer {TOKEN}")).status_code == 200  # no token configured


async def test_with_a_token_only_its_bearer_may_scrape(sqlite_url: str) -> None:
    with app_server(sqlite_url, metrics_token=TOKEN) as server:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
            refused = await _get(server.url, **headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
            assert "silentpartner_" not in refused.text
        assert (await _get(server.url, Authorization=f"Bearer {TOKEN}")).status_code == 200
        assert (await _get(server.url, Authorization=f"bearer {TOKEN}", **{"X-Forwarded-For": "1.2.3.4"})).is_success


def test_a_short_metrics_token_fails_with_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^METRICS_TOKEN: expected a random secret of at least 16 characters"):
        load_settings(metrics_token="short", _env_file=None)
    assert load_settings(metrics_token="", _env_file=None).metrics_token is None  # empty: no token, loopback only


async def test_two_apps_in_one_process_count_apart(sqlite_url: str, tmp_path: Any) -> None:
    with app_server(sqlite_url) as first, app_server(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}") as second:
        async with httpx.AsyncClient(timeout=15) as http:
            for _ in range(3):  # unsigned Cal.com webhooks, refused by the first app only
                assert (await http.post(first.url + "/webhooks/calcom", content=b"{}")).status_code == 401
        one, two = await scrape(first.url), await scrape(second.url)
    assert one.value("silentpartner_webhook_deliveries_total", source="calcom", result="unauthorized") == 3
    assert two.value("silentpartner_webhook_deliveries_total", source="calcom", result="unauthorized") == 0


async def test_the_queue_depth_is_read_at_scrape_time_and_failures_are_counted(sqlite_url: str) -> None:
    worker = JobWorker(poll_interval=0.05, schedule_recurring=False)
    with app_server(sqlite_url, [worker]) as server:
        runtime = server.server.config.app.state.runtime

        async def enqueue() -> None:
            async with runtime.db.session() as session:
                for n in range(3):
                    await jobs.enqueue(session, "later", {"n": n}, run_at=PINNED_NOW + timedelta(hours=1))
                await jobs.enqueue(session, "no-such-kind", {}, run_at=PINNED_NOW, max_attempts=1)

        async def idle() -> None:
            await worker.until_idle()

        loop = worker._loop
        assert loop is not None
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(enqueue(), loop))
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(idle(), loop))
        scraped = await scrape(server.url)
    assert scraped.value("silentpartner_job_queue_depth", state="scheduled") == 3
    assert scraped.value("silentpartner_job_queue_depth", state="due") == 0
    assert scraped.value("silentpartner_job_queue_depth", state="parked") == 1  # its one attempt failed
    assert scraped.value("silentpartner_job_failures_total", kind="no-such-kind", then="parked") == 1
