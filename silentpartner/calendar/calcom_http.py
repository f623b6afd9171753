"""The Cal.com API v2 HTTP client: auth, per-endpoint `cal-api-version`, rate limiting, retries, errors.

What it guarantees (facts from shared/reference/calcom-api-v2.md §1, §2.8-2.10):
- every request carries `Authorization: Bearer <key>` and the version header its endpoint family needs
  (a missing header silently routes to the legacy 2024-04-15 controllers);
- a client-side sliding-window limiter keeps each key under 120 requests a minute (Cal.com locks accounts
  that burst), and a 429 pauses the limiter until the server's reset time (Cal.com blocks a key for 60 s,
  so a reset up to that long is waited out, never retried into). Inside `patience.interactive()` (a live
  call) a request that would wait longer than the call's budget fails at once instead;
- idempotent requests are retried with jittered exponential backoff on timeouts, transport errors, 5xx
  and 429; a non-idempotent request (creating a booking) is retried only where it cannot have been
  processed (a 429, a refused connection). A timeout or 5xx on it raises `OutcomeUnknown`, and the caller
  looks for the booking before trying again, so retries never double-book;
- error bodies in both envelopes Cal.com uses are mapped to the port's typed errors, and whatever shape an
  error body has, its text reaches the operator;
- list endpoints are read page by page up to `MAX_PAGES`, stopping when `remainingItems` or
  `totalItems` say everything has come (a server that says `hasNextPage: true` forever cannot loop us).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from silentpartner import metrics
from silentpartner.calendar import patience
from silentpartner.calendar.port import (
    CalendarError,
    CalendarUnavailable,
    InvalidRequest,
    NotFound,
    OutsideBookingWindow,
    SlotUnavailable,
)
from silentpartner.logs import log_event

# cal-api-version per endpoint family (spec 2025-10). Webhooks and /v2/me take no version header.
VERSION_SLOTS = "2024-09-04"
VERSION_BOOKINGS = "2024-08-13"
VERSION_EVENT_TYPES = "2024-06-14"
VERSION_SCHEDULES = "2024-06-11"

# Cal.com's default for an API key is 120 per 60 s; staying at 100 leaves room for clock skew between
# our window and theirs and for a second process sharing the key.
DEFAULT_REQUESTS_PER_MINUTE = 100
# After a 429 Cal.com blocks the key for 60 s (throttler block duration); a reset header is believed up to that.
RATE_LIMIT_BLOCK_SECONDS = 60.0
MAX_PAGES = 50  # with 100 a page, 5,000 items: more than any list we read
log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class OutcomeUnknown(CalendarUnavailable):
    """A non-idempotent request timed out or failed with a 5xx: it may or may not have been applied."""


class RateLimited(CalendarUnavailable):
    """Cal.com (or our own limiter) says wait longer than a live caller can: ask again later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Cal.com is rate limiting this key for another {seconds:.0f} s")
        self.seconds = seconds


class RateLimiter:
    """At most `limit` acquisitions in any `window` seconds; waits (with the injected sleep) otherwise.

    `pause_until` lets a 429's reset time hold every caller back, not just the one that was refused.
    Nothing is held while waiting, so a caller with a small `max_wait` is refused at once rather than
    queued behind background work that is waiting out a block.
    """

    def __init__(
        self,
        limit: int = DEFAULT_REQUESTS_PER_MINUTE,
        window: float = 60.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0

    def pause_until(self, at: float) -> None:
        self._paused_until = max(self._paused_until, at)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._monotonic() + seconds)

    async def acquire(self, max_wait: float | None = None) -> None:
        """Take a place in the window, waiting for one if needed; `RateLimited` if that is over `max_wait`."""
        deadline = None if max_wait is None else self._monotonic() + max_wait
        while True:
            # No await between the check and the append: in one event loop, that is atomic.
            now = self._monotonic()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            wait = 0.0
            if now < self._paused_until:
                wait = self._paused_until - now
            elif len(self._sent) >= self.limit:
                wait = self._sent[0] + self.window - now
            if wait <= 0:
                self._sent.append(now)
                return
            if deadline is not None and now + wait > deadline:
                raise RateLimited(wait)
            await self._sleep(wait)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries for a retryable request
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)] (attempt counts from 0)."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


# -- error mapping ----------------------------------------------------------------------------------


def error_message(body: Any) -> str:
    """The human message from either v2 error envelope, or else the body itself, whatever its shape."""
    if isinstance(body, dict):
        parts: list[str] = []
        error = body.get("error")
        if isinstance(error, dict):
            parts.append(str(error.get("message") or ""))
            details = error.get("details")
            if isinstance(details, dict):
                for key in ("message", "error"):
                    if isinstance(details.get(key), str):
                        parts.append(details[key])
                if isinstance(details.get("errors"), list):
                    parts.append(_compact(details["errors"]))
            elif details:
                parts.append(_compact(details))
            if error.get("code"):
                parts.append(str(error["code"]))
        elif isinstance(error, str):
            parts.append(error)
        message = body.get("message")
        if isinstance(message, list):
            parts.append("; ".join(str(m) for m in message))
        elif isinstance(message, str):
            parts.append(message)
        elif message:
            parts.append(_compact(message))
        for key in ("errors", "detail", "details"):
            if body.get(key):
                parts.append(_compact(body[key]))
        found = [p for p in dict.fromkeys(parts) if p]
        if found:
            return " | ".join(found)
        return _compact(body) if body else ""
    if isinstance(body, list):
        return _compact(body) if body else ""
    if isinstance(body, str):
        return " ".join(body.split())[:MAX_ERROR_CHARS]
    return ""


MAX_ERROR_CHARS = 300


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text[:MAX_ERROR_CHARS]


_TAKEN = ("already has booking at this time", "not available", "no_available_users_found_error", "no more seats")
_OUT_OF_BOUNDS = ("booking_time_out_of_bounds_error", 'can\'t be booked at the "start" time', "in the past")


def map_error(status: int, body: Any) -> CalendarError:
    message = error_message(body) or f"HTTP {status}"
    lowered = message.lower()
    if status == 409:
        return SlotUnavailable(message)
    if status == 404:
        return NotFound(message)
    if status == 429 or status >= 500:
        return CalendarUnavailable(f"Cal.com answered {status}: {message}")
    if status == 400:
        if any(marker in lowered for marker in _OUT_OF_BOUNDS):
            return OutsideBookingWindow(message)
        if any(marker in lowered for marker in _TAKEN):
            return SlotUnavailable(message)
    return InvalidRequest(f"Cal.com answered {status}: {message}")


def _header_float(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value)
        except ValueError:
            continue
    return None


def rate_limit_wait(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """Seconds to wait after a 429, from Retry-After or X-RateLimit-Reset[-Default].

    Cal.com v2 sends seconds until reset; v1 sent an epoch in milliseconds: accept all three forms.
    """
    retry_after = _header_float(headers, "retry-after")
    if retry_after is not None:
        return max(0.0, retry_after)
    reset = _header_float(headers, "x-ratelimit-reset-default", "x-ratelimit-reset")
    if reset is None:
        return None
    if reset > 1e12:  # epoch milliseconds
        return max(0.0, reset / 1000 - now_epoch)
    if reset > 1e9:  # epoch seconds
        return max(0.0, reset - now_epoch)
    return max(0.0, reset)


# -- the client -------------------------------------------------------------------------------------


class CalcomClient:
    """One API key against one Cal.com base URL. Returns the `data` of the success envelope."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base[: -len("/v2")] if base.endswith("/v2") else base
        self._api_key = api_key
        self.http = http
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()
        self._sleep = sleep
        self._wall_clock = wall_clock
        self.timeout = timeout
        self.requests_sent = 0

    def _headers(self, version: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if version:
            headers["cal-api-version"] = version
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        version: str | None,
        params: Any = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send with limiting and retries; return the parsed JSON body of a 2xx (the whole envelope)."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE")
        attempt = 0
        max_wait = patience.max_wait()
        while True:
            await self.limiter.acquire(max_wait)
            self.requests_sent += 1
            try:
                response = await metrics.current().calcom_request(
                    method,
                    self.http.request(
                        method,
                        self.base_url + path,
                        params=params,
                        json=json,
                        headers=self._headers(version),
                        timeout=self.timeout,
                    ),
                )
            except httpx.ConnectError as exc:
                # Refused before anything was sent: safe to retry even a create.
                error: CalendarError = CalendarUnavailable(f"cannot reach Cal.com: {exc}")
                retryable = True
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if not idempotent:
                    raise OutcomeUnknown(f"Cal.com did not answer {method} {path}: {exc!r}") from exc
                error = CalendarUnavailable(f"Cal.com did not answer {method} {path}: {exc!r}")
                retryable = True
            else:
                if response.status_code < 400:
                    return _json(response)
                body = _json(response)
                if response.status_code == 429:
                    wait = rate_limit_wait(response.headers, self._wall_clock())
                    if wait is not None:
                        wait = min(wait, RATE_LIMIT_BLOCK_SECONDS)
                        self.limiter.pause_for(wait)
                    if max_wait is not None and (wait is None or wait > max_wait):
                        # A live caller is offered a callback instead of a minute of silence.
                        raise RateLimited(RATE_LIMIT_BLOCK_SECONDS if wait is None else wait)
                    error = map_error(429, body)
                    retryable = True
                    if attempt + 1 < self.retry.attempts and wait is not None:
                        attempt += 1
                        continue  # the limiter holds us back until the reset
                elif response.status_code >= 500:
                    if not idempotent:
                        raise OutcomeUnknown(f"Cal.com answered {response.status_code} to {method} {path}")
                    error = map_error(response.status_code, body)
                    retryable = True
                else:
                    raise map_error(response.status_code, body)
            attempt += 1
            if not retryable or attempt >= self.retry.attempts:
                raise error
            await self._sleep(self.retry.delay(attempt - 1, self.rng))

    async def data(self, method: str, path: str, **kwargs: Any) -> Any:
        body = await self.request(method, path, **kwargs)
        return body.get("data") if isinstance(body, dict) and "data" in body else body

    async def paginate(
        self,
        path: str,
        *,
        version: str | None,
        params: list[tuple[str, str]],
        take: int = 100,
        max_pages: int = MAX_PAGES,
    ):
        """Yield items page by page (`take`/`skip`) until the list is done: `remainingItems` is 0 or
        `totalItems` have come (believed over `hasNextPage`), an empty page, or `max_pages` pages."""
        skip = 0
        for _ in range(max_pages):
            body = await self.request(
                "GET", path, version=version, params=[*params, ("take", str(take)), ("skip", str(skip))]
            )
            items = body.get("data") if isinstance(body, dict) else None
            if not isinstance(items, list) or not items:
                return
            for item in items:
                if isinstance(item, dict):
                    yield item
            skip += len(items)
            if not _more_pages(body.get("pagination"), skip, len(items), take):
                return
        log_event(log, "calcom.pagination_capped", logging.WARNING, path=path, pages=max_pages, items=skip)

    # -- webhooks (no version header in the spec) -----------------------------------------------------

    async def ensure_webhook(self, subscriber_url: str, secret: str, triggers: list[str]) -> tuple[str, Any]:
        """Create our webhook, or update the one already pointing at `subscriber_url`. Idempotent.

        Returns ("created" | "updated", webhook id)."""
        existing = [w async for w in self._webhooks() if w.get("subscriberUrl") == subscriber_url]
        body = {"subscriberUrl": subscriber_url, "triggers": triggers, "active": True, "secret": secret}
        if existing:
            hook_id = existing[0]["id"]
            await self.data("PATCH", f"/v2/webhooks/{hook_id}", version=None, json=body, idempotent=True)
            return "updated", hook_id
        created = await self.data("POST", "/v2/webhooks", version=None, json=body, idempotent=False)
        return "created", created["id"]

    async def _webhooks(self):
        async for hook in self.paginate("/v2/webhooks", version=None, params=[], take=250):
            yield hook


def _more_pages(pagination: Any, seen: int, page_items: int, take: int) -> bool:
    if not isinstance(pagination, dict):
        return page_items >= take
    remaining, total = pagination.get("remainingItems"), pagination.get("totalItems")
    if isinstance(remaining, int) and not isinstance(remaining, bool):
        return remaining > 0
    if isinstance(total, int) and not isinstance(total, bool):
        return seen < total
    has_next = pagination.get("hasNextPage")
    return bool(has_next) if has_next is not None else page_items >= take


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
