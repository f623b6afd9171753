"""Every Prometheus metric the product exports, and one method per place that moves one.

Each app owns a `Metrics` with its own `CollectorRegistry` (never prometheus_client's global one), so
several apps in one process (the test suite) count apart. Code reaches its app's metrics with
`current()`: the app's `MetricsScope` middleware sets it for every request, websocket and the lifespan
(so the job worker and the sweep, started there, inherit it), as the logging context does for the call
sid. Code running outside any app (the CLI, unit tests) counts into a detached set nobody serves.

Labels only ever take values from short fixed lists or from the businesses file, so a hostile request
cannot grow the number of series.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")

CONTENT_TYPE = CONTENT_TYPE_LATEST
CALL_OUTCOMES = frozenset({"booked", "rescheduled", "cancelled", "message", "transferred", "info", "none", "cut_off"})
SMS_STATUSES = frozenset(
    {
        # ours
        "blocked",
        "not_sent",
        "retrying",
        # Twilio's (the API's answer and the status callbacks)
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "partially_delivered",
    }
)
SLOT_ORIGINS = frozenset({"here", "elsewhere"})
WEBHOOK_RESULTS = frozenset({"accepted", "duplicate", "unauthorized", "invalid"})
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
QUEUE_STATES = ("due", "scheduled", "running", "parked")
TURN_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 8.0)
REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


def _one_of(value: str | None, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._calls_live = Gauge("silentpartner_calls_in_progress", "Calls on the line in this process", registry=r)
        self._calls = Counter(
            "silentpartner_calls",
            "Calls ended, by outcome (cut_off: closed by the sweep)",
            ["business", "outcome"],
            registry=r,
        )
        self._turns = Histogram(
            "silentpartner_turn_latency_seconds",
            "From the end of the caller's speech to the agent's first audio",
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self._bookings = Counter(
            "silentpartner_bookings", "Bookings made through the receptionist", ["business", "source"], registry=r
        )
        self._slot_invalidations = Counter(
            "silentpartner_slot_cache_invalidations",
            "Times a business's cached free slots were dropped: a change seen here, or told by another instance",
            ["origin"],
            registry=r,
        )
        self._calcom = Counter(
            "silentpartner_calcom_requests",
            "Cal.com API requests by status (error: no answer)",
            ["method", "status"],
            registry=r,
        )
        self._calcom_seconds = Histogram(
            "silentpartner_calcom_request_seconds",
            "Cal.com API request latency",
            ["method"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._webhooks = Counter(
            "silentpartner_webhook_deliveries",
            "Webhook deliveries received, by result",
            ["source", "result"],
            registry=r,
        )
        self._sms = Counter(
            "silentpartner_sms", "Texts reaching each status (ours and Twilio's)", ["status"], registry=r
        )
        self._queue = Gauge(
            "silentpartner_job_queue_depth", "Jobs waiting, by state (read from the database)", ["state"], registry=r
        )
        self._job_failures = Counter(
            "silentpartner_job_failures",
            "Job attempts that failed (then: retry or parked)",
            ["kind", "then"],
            registry=r,
        )

    # -- calls (voice/call.py, voice/sweep.py) --------------------------------------------------------

    def call_started(self) -> None:
        self._calls_live.inc()

    def call_ended(self, business: str, outcome: str | None) -> None:
        self._calls_live.dec()
        self._calls.labels(business, _one_of(outcome or "none", CALL_OUTCOMES)).inc()

    def call_cut_off(self, business: str) -> None:
        self._calls.labels(business, "cut_off").inc()

    def turn_latency(self, ms: int) -> None:
        self._turns.observe(ms / 1000)

    # -- bookings and the slot cache (calendar/cache.py) -------------------------------------------------

    def booked(self, business: str, source: str) -> None:
        self._bookings.labels(business, source[:16]).inc()

    def slot_cache_invalidated(self, origin: str) -> None:
        self._slot_invalidations.labels(_one_of(origin, SLOT_ORIGINS)).inc()

    # -- Cal.com (calendar/calcom_http.py, calendar/webhooks.py) --------------------------------------

    async def calcom_request(self, method: str, sending: Awaitable[T]) -> T:
        """Await an HTTP request to Cal.com, counting it by status and timing it."""
        method = _one_of(method.upper(), HTTP_METHODS)
        status = "error"
        started = time.perf_counter()
        try:
            response: Any = await sending
            status = str(getattr(response, "status_code", "error"))
            return response
        finally:
            self._calcom.labels(method, status).inc()
            self._calcom_seconds.labels(method).observe(time.perf_counter() - started)

    def webhook(self, source: str, result: str) -> None:
        self._webhooks.labels(source, _one_of(result, WEBHOOK_RESULTS)).inc()

    # -- texts (messaging/sms.py, messaging/routes.py) ------------------------------------------------

    def sms(self, status: str | None) -> None:
        if status is not None:
            self._sms.labels(_one_of(status, SMS_STATUSES)).inc()

    # -- jobs (messaging/worker.py; the depth is read at scrape time) ---------------------------------

    def job_failed(self, kind: str, then: str | None) -> None:
        self._job_failures.labels(kind[:32], then or "lost").inc()

    def queue_depth(self, by_state: Mapping[str, int] | None) -> None:
        """The queue as the database has it now; None (the database did not answer) removes the gauge."""
        self._queue.clear()
        if by_state is None:
            return
        for state in QUEUE_STATES:
            self._queue.labels(state).set(by_state.get(state, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


_current: ContextVar[Metrics] = ContextVar("silentpartner_metrics")
_DETACHED = Metrics()


def current() -> Metrics:
    """The metrics of the app this code runs in (a detached set outside any app)."""
    return _current.get(_DETACHED)


class MetricsScope:
    """ASGI middleware: everything an app runs (requests, websockets, its lifespan) counts into its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _current.set(self.metrics)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
