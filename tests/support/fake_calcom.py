"""A local Cal.com API v2 server that keeps state and answers like the real one, for tests and benches.

Run it with `LiveServer(fake.app)`. It keeps event types, bookings and schedules, computes slots from each
host's schedule (the event type's own schedule when it has one, else the host's default schedule: weekly hours
in its time zone, with date overrides that replace a date's hours, "00:00"-"00:00" being a day off), enforces
conflicts (400 "User either already has booking at this time or is not available") and booking bounds (the
`booking_time_out_of_bounds_error` message), rate-limits per API key like Cal.com's throttler (120 a minute;
going over blocks the key for 60 s, and every 429 carries `X-RateLimit-Reset-Default` = seconds until the
block lifts), supports reservations, cancel, reschedule, list with filters and pagination, webhooks CRUD,
reading and changing the key owner's schedules (`GET /v2/schedules/default`, `GET`/`PATCH /v2/schedules/{id}`;
a PATCH replaces every override, like Cal.com's repository does), and sends signed webhooks
(`deliver_webhook`).

Every request is validated against `../shared/specs/calcom/calcom-api-v2-openapi.validation.json` with
openapi-core. A request that does not match answers 400 and is appended to `spec_violations`, which the
tests' fixture asserts is empty. Three schema defects of the generated spec are corrected in memory (not
in the file), each a request Cal.com's own code accepts but the generated schema cannot:
- `CreateWebhookInputDto.triggers`/`UpdateWebhookInputDto.triggers` are declared `type: string` with the
  enum, but the DTO is an array of triggers (reference §3 "Subscribe: POST /v2/webhooks {subscriberUrl,
  triggers[], ...}"); the schema becomes an array of that enum;
- the booking `location` is a `oneOf` over alternatives whose `type` is a free string, so every
  location matches several alternatives and a `oneOf` can never pass (the same overlapping-`oneOf`
  defect the validation copy fixes at the top of the body, reference §5); it becomes `anyOf`;
- the schedules' `startTime`/`endTime` carry `pattern: "TIME_FORMAT_HH_MM"`, the name of Cal.com's constant
  instead of its value, which no time matches; it becomes that constant's regex (platform-types
  schedules-2024-06-11 constants: `^([01]\\d|2[0-3]):([0-5]\\d)$`).

Faults: `fake.inject(method, path_prefix, kind, count=1, ...)` with kind "500", "429", "timeout_no_commit"
(hang until the client gives up, then fail without doing anything), "commit_then_hang" (do the work,
then hang so the client never hears the answer), "error" (answer `status` with `body`, whatever its
shape), and for a create: "answer_cancelled" / "answer_rejected" (the booking is made and at once
cancelled or rejected, and that is the answer), "answer_moved" (booked `moved_minutes` later than asked).
Lists can misbehave the way an example-serving mock does: `fake.repeat_first_page = True` answers every
page with the first one and `hasNextPage: true` (its counts stay true); `fake.page_counts = False` leaves
`totalItems`/`remainingItems`/`returnedItems` out. Hanging waits
on an event released at `close()`, so a test never sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import LiveServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT.parent / "shared" / "specs" / "calcom" / "calcom-api-v2-openapi.validation.json"

MSG_TAKEN = "User either already has booking at this time or is not available"
MSG_TEAM_TAKEN = "One of the hosts either already has booking at this time or is not available"
MSG_OUT_OF_BOUNDS = (
    "The event type can't be booked at the \"start\" time provided. This could be because it's too soon "
    "(violating the minimum booking notice) or too far in the future (outside the event's scheduling window). "
    'Try fetching available slots first using the GET /v2/slots endpoint and then make a booking with "start" '
    "time equal to one of the available slots."
)
MSG_PAST = "Attempting to book a meeting in the past."
MSG_THROTTLED = "CustomThrottlerGuard - Too many requests. Please try again later."
TIME_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")  # Cal.com's TIME_FORMAT_HH_MM
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# -- the OpenAPI validator ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _openapi():
    from openapi_core import Config, OpenAPI

    if not SPEC_PATH.is_file():
        raise FileNotFoundError(f"the Cal.com v2 validation spec is missing: {SPEC_PATH}")
    spec = json.loads(SPEC_PATH.read_text("utf-8"))
    schemas = spec["components"]["schemas"]
    for name in ("CreateWebhookInputDto", "UpdateWebhookInputDto"):
        triggers = schemas[name]["properties"]["triggers"]
        schemas[name]["properties"]["triggers"] = {"type": "array", "items": {"enum": triggers["enum"]}}
    location = schemas["CreateBookingInput_2024_08_13"]["properties"]["location"]
    if "oneOf" in location:
        location["anyOf"] = location.pop("oneOf")
    for name in ("ScheduleAvailabilityInput_2024_06_11", "ScheduleOverrideInput_2024_06_11"):
        for key in ("startTime", "endTime"):
            schemas[name]["properties"][key]["pattern"] = TIME_HH_MM.pattern
    # The spec names no servers; match paths as written (/v2/...). Its own structure has unresolved
    # path parameters elsewhere, so skip spec self-validation.
    spec["servers"] = [{"url": "/"}]
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class _OpenAPIRequest:
    """The request protocol openapi-core reads, built from a Starlette request and its body."""

    def __init__(self, request: Request, body: bytes) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = f"{request.url.scheme}://{request.url.netloc}"
        self.path = request.url.path
        self.full_url_pattern = self.host_url + self.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.query_params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(list(request.cookies.items())),
        )
        self.content_type = request.headers.get("content-type", "application/json").split(";")[0]
        self.body = body or None


def validate_request(request: Request, body: bytes) -> str | None:
    """None if the request matches the spec, else a description of what is wrong."""
    try:
        _openapi().validate_request(_OpenAPIRequest(request, body))
    except Exception as exc:  # openapi-core raises a family of errors; all mean "does not match"
        cause = exc.__cause__ or exc
        details = [str(e).split("\n")[0] for e in getattr(cause, "schema_errors", [])]
        return f"{request.method} {request.url.path}: {exc}" + (f" ({'; '.join(details)})" if details else "")
    return None


# -- state ------------------------------------------------------------------------------------------


@dataclass
class Host:
    id: int
    name: str
    email: str
    username: str
    time_zone: str = "America/Los_Angeles"

    def out(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "username": self.username,
            "timeZone": self.time_zone,
        }


@dataclass
class Schedule:
    """A Cal.com schedule in the API's own shape: weekly `availability` rows `{days, startTime, endTime}` and
    date `overrides` `{date, startTime, endTime}`, wall-clock in `time_zone`."""

    id: int
    owner_id: int
    name: str
    time_zone: str
    availability: list[dict[str, Any]]
    overrides: list[dict[str, str]] = field(default_factory=list)

    def out(self, default_id: int | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "ownerId": self.owner_id,
            "name": self.name,
            "timeZone": self.time_zone,
            "availability": copy.deepcopy(self.availability),
            "isDefault": self.id == default_id,
            "overrides": copy.deepcopy(self.overrides),
        }

    def windows(self, day: date) -> list[tuple[int, int]]:
        """The day's open (start minute, end minute) ranges, read the way Cal.com's buildDateRanges reads them:
        any override on the date replaces the weekday's rows; an end of 23:59 is midnight; a range that is
        empty or backwards is no time at all (so "00:00"-"00:00" alone closes the day)."""
        rows = [o for o in self.overrides if o["date"] == day.isoformat()]
        if not rows:
            rows = [a for a in self.availability if WEEK_DAYS[day.weekday()] in a["days"]]
        out = []
        for row in rows:
            start, end = _minutes(row["startTime"]), _minutes(row["endTime"])
            end = 24 * 60 if end == 23 * 60 + 59 else end
            if start < end:
                out.append((start, end))
        return out


def weekly_rows(hours: dict[int, list[tuple[int, int]]]) -> list[dict[str, Any]]:
    """Weekday (0 = Monday) -> [(start minute, end minute)] as the API's availability rows."""
    return [
        {"days": [WEEK_DAYS[day]], "startTime": _hhmm(start), "endTime": _hhmm(end)}
        for day, windows in sorted(hours.items())
        for start, end in windows
    ]


WORKING_HOURS = {d: [(8 * 60, 17 * 60)] for d in range(5)}  # every host's default schedule unless a test says


@dataclass
class EventType:
    id: int
    slug: str
    title: str
    length: int
    time_zone: str = "America/Los_Angeles"
    # The event type's own schedule (weekday (0 = Monday) -> [(start minute, end minute)] in `time_zone`), or
    # None: then each host's default schedule applies, as in Cal.com when an event type names no schedule.
    availability: dict[int, list[tuple[int, int]]] | None = None
    schedule_id: int | None = None  # set by FakeCalcom.add_event_type when `availability` is given
    before_buffer: int = 0
    after_buffer: int = 0
    minimum_notice: int = 0
    slot_interval: int | None = None
    booking_window_days: int = 60
    requires_email: bool = True
    hide_email: bool = False
    address_field: str | None = None  # slug of a custom address booking field
    attendee_address_location: bool = False
    hosts: list[Host] = field(default_factory=list)
    scheduling_type: str | None = None  # None (individual) | "roundRobin" | "collective"
    price: int = 0  # minor units (cents)
    currency: str = "usd"

    def booking_fields(self) -> list[dict[str, Any]]:
        fields = [
            {"type": "name", "slug": "name", "label": "Your name", "required": True, "isDefault": True},
            {
                "type": "email",
                "slug": "email",
                "label": "Email address",
                "required": self.requires_email,
                "hidden": self.hide_email,
                "isDefault": True,
            },
            {"type": "phone", "slug": "attendeePhoneNumber", "label": "Phone", "required": False, "isDefault": True},
            {"type": "textarea", "slug": "notes", "label": "Additional notes", "required": False, "isDefault": True},
        ]
        if self.address_field:
            fields.append({"type": "address", "slug": self.address_field, "label": "Address", "required": False})
        return fields

    def out(self) -> dict[str, Any]:
        locations = [{"type": "attendeeAddress"}] if self.attendee_address_location else [{"type": "attendeePhone"}]
        data: dict[str, Any] = {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "lengthInMinutes": self.length,
            "beforeEventBuffer": self.before_buffer,
            "afterEventBuffer": self.after_buffer,
            "minimumBookingNotice": self.minimum_notice,
            "slotInterval": self.slot_interval,
            "bookingFields": self.booking_fields(),
            "locations": locations,
            "price": self.price,
            "currency": self.currency,
            "hidden": False,
            "ownerId": self.hosts[0].id if self.hosts else None,
            "hosts": [{"userId": h.id, "name": h.name} for h in self.hosts],
            "scheduleId": self.schedule_id,
        }
        if self.scheduling_type:
            data["schedulingType"] = self.scheduling_type
        return data


FAULT_KINDS = (
    "500",
    "429",
    "timeout_no_commit",
    "commit_then_hang",
    "error",
    "answer_cancelled",
    "answer_rejected",
    "answer_moved",
)


@dataclass
class Fault:
    method: str
    path_prefix: str
    kind: str
    count: int
    reset_seconds: int = 1
    status: int = 500
    body: Any = None
    moved_minutes: int = 60


class FakeCalcom:
    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        api_keys: tuple[str, ...] = ("cal_test_key",),
        rate_limit: int = 120,
        rate_window_seconds: float = 60.0,
        block_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        latency_seconds: float = 0.0,
        web_app_url: str = "https://app.cal.test",
    ) -> None:
        self.now = now
        self.api_keys = set(api_keys)
        self.rate_limit = rate_limit
        self.rate_window = rate_window_seconds
        self.block_seconds = block_seconds
        self.repeat_first_page = False
        self.page_counts = True
        self.monotonic = monotonic
        self.latency_seconds = latency_seconds
        self.web_app_url = web_app_url
        self.url = ""  # set by serve()
        self.honour_range_format = True
        self.event_types: dict[int, EventType] = {}
        self.bookings: dict[str, dict[str, Any]] = {}
        self.reservations: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.schedules: dict[int, Schedule] = {}
        self._default_schedules: dict[int, int | None] = {}  # user id -> their default schedule's id
        self.spec_violations: list[str] = []
        self.requests: list[tuple[str, str, str]] = []  # method, path, query string
        self.statuses: list[int] = []
        self.faults: list[Fault] = []
        self._windows: dict[str, tuple[float, int]] = {}
        self._blocked_until: dict[str, float] = {}
        self._ids = itertools.count(1001)
        self._hook_ids = itertools.count(1)
        self._schedule_ids = itertools.count(501)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.me = Host(1, "Mike Plumber", "mike@example.com", "mike")
        self.app = Starlette(routes=self._routes())

    # -- configuration ------------------------------------------------------------------------------

    def add_event_type(self, event_type: EventType) -> EventType:
        if not event_type.hosts:
            event_type.hosts = [self.me]
        if event_type.availability is not None and event_type.schedule_id is None:
            own = self.add_schedule(
                event_type.hosts[0], weekly_rows(event_type.availability), name=f"{event_type.title} hours"
            )
            own.time_zone = event_type.time_zone
            event_type.schedule_id = own.id
        self.event_types[event_type.id] = event_type
        return event_type

    def add_schedule(self, owner: Host, availability: list[dict[str, Any]], *, name: str = "Working hours") -> Schedule:
        schedule = Schedule(next(self._schedule_ids), owner.id, name, owner.time_zone, availability)
        self.schedules[schedule.id] = schedule
        return schedule

    def default_schedule(self, host: Host) -> Schedule | None:
        """The host's default schedule, made on first use: Monday to Friday 08:00-17:00 in their time zone
        (None once `drop_default_schedule` has been called: a user with no default has no hours)."""
        if host.id not in self._default_schedules:
            self._default_schedules[host.id] = self.add_schedule(host, weekly_rows(WORKING_HOURS)).id
        schedule_id = self._default_schedules[host.id]
        return None if schedule_id is None else self.schedules[schedule_id]

    def drop_default_schedule(self, host: Host) -> None:
        """The user has no default schedule (`defaultScheduleId` null); their schedules themselves stay."""
        self._default_schedules[host.id] = None

    def inject(
        self,
        method: str,
        path_prefix: str,
        kind: str,
        count: int = 1,
        *,
        reset_seconds: int = 1,
        status: int = 500,
        body: Any = None,
        moved_minutes: int = 60,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(kind)
        self.faults.append(Fault(method.upper(), path_prefix, kind, count, reset_seconds, status, body, moved_minutes))

    def close(self) -> None:
        """Let every hanging handler finish (call before stopping the server)."""
        self._release.set()

    def serve(self) -> LiveServer:
        """Start it on a loopback port (sets `self.url`); the caller stops it (after `close()`).

        LiveServer sets TCP_NODELAY, so kept-alive requests don't wait on delayed ACKs."""
        server = LiveServer(self.app)
        server.start()
        self.url = server.url
        return server

    @contextmanager
    def running(self) -> Iterator[FakeCalcom]:
        """Serve for the duration of a test; afterwards every request must have matched the spec."""
        server = self.serve()
        try:
            yield self
        finally:
            self.close()
            server.stop()
        assert self.spec_violations == [], "requests that do not match the Cal.com v2 spec"

    def requests_to(self, method: str, path_prefix: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path_prefix))

    # -- plumbing -----------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        r = self._wrap
        return [
            Route("/v2/me", r(self._me), methods=["GET"]),
            Route("/v2/slots", r(self._slots), methods=["GET"]),
            Route("/v2/slots/reservations", r(self._reserve), methods=["POST"]),
            Route("/v2/slots/reservations/{uid}", r(self._reservation), methods=["GET", "DELETE"]),
            Route("/v2/bookings", r(self._bookings), methods=["GET", "POST"]),
            Route("/v2/bookings/{uid}", r(self._get_booking), methods=["GET"]),
            Route("/v2/bookings/{uid}/cancel", r(self._cancel), methods=["POST"]),
            Route("/v2/bookings/{uid}/reschedule", r(self._reschedule), methods=["POST"]),
            Route("/v2/event-types", r(self._event_types), methods=["GET"]),
            Route("/v2/event-types/{id}", r(self._event_type), methods=["GET"]),
            Route("/v2/webhooks", r(self._webhooks), methods=["GET", "POST"]),
            Route("/v2/webhooks/{id}", r(self._webhook), methods=["GET", "PATCH", "DELETE"]),
            Route("/v2/schedules/default", r(self._get_default_schedule), methods=["GET"]),
            Route("/v2/schedules/{id}", r(self._schedule), methods=["GET", "PATCH"]),
            # Anything else: validation flags a path the spec lacks; a spec path this fake does not
            # implement is recorded too, so a test cannot pass on a 404 the real API would not give.
            Route("/{path:path}", r(self._unimplemented), methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ]

    def _wrap(self, handler):
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            self.requests.append((request.method, request.url.path, request.url.query))
            response = await self._handle(handler, request, body)
            self.statuses.append(response.status_code)
            return response

        return endpoint

    async def _handle(self, handler, request: Request, body: bytes) -> Response:
        problem = validate_request(request, body)
        if problem is not None:
            self.spec_violations.append(problem)
            return self._error(request, 400, "BadRequestException", f"request does not match the spec: {problem}")
        key = _bearer(request)
        limited = self._count(request, key)
        if isinstance(limited, Response):
            return limited
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "500":
            return self._with_limits(
                JSONResponse({"statusCode": 500, "message": "Internal server error"}, 500), limited
            )
        if fault is not None and fault.kind == "429":
            response = self._error(request, 429, "ThrottlerException", MSG_THROTTLED)
            return self._with_limits(response, (self.rate_limit, 0, fault.reset_seconds))
        if fault is not None and fault.kind == "timeout_no_commit":
            await self._hang()
            return JSONResponse({"statusCode": 504, "message": "Gateway Timeout"}, 504)
        if fault is not None and fault.kind == "error":
            body = fault.body if isinstance(fault.body, bytes | str) else json.dumps(fault.body).encode()
            return self._with_limits(Response(body, fault.status, media_type="application/json"), limited)
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        if request.url.path not in ("/v2/slots",) and key not in self.api_keys:
            return self._with_limits(self._error(request, 401, "UnauthorizedException", "Invalid API Key"), limited)
        data = json.loads(body) if body else None
        if fault is not None and fault.kind == "answer_moved" and isinstance(data, dict):
            data["start"] = _iso(_parse(data["start"]) + timedelta(minutes=fault.moved_minutes))
        with self._lock:
            response = handler(request, data)
            if fault is not None and fault.kind in ("answer_cancelled", "answer_rejected"):
                response = self._turned_down(response, fault.kind.removeprefix("answer_"))
        if fault is not None and fault.kind == "commit_then_hang":
            await self._hang()
        return self._with_limits(response, limited)

    async def _hang(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._release.wait, 30)

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.count > 0 and fault.method == request.method and request.url.path.startswith(fault.path_prefix):
                fault.count -= 1
                return fault
        return None

    def _count(self, request: Request, key: str | None) -> tuple[int, int, int] | Response:
        """Fixed 60 s window per key (per client address without one); going over blocks the key for
        `block_seconds`, and while blocked the reset header counts down to the end of the block, like
        Cal.com's throttler guard (timeToBlockExpire || timeToExpire)."""
        bucket = key or (request.client.host if request.client else "anonymous")
        now = self.monotonic()
        blocked_until = self._blocked_until.get(bucket, 0.0)
        if now < blocked_until:
            response = self._error(request, 429, "ThrottlerException", MSG_THROTTLED)
            return self._with_limits(response, (self.rate_limit, 0, max(1, math.ceil(blocked_until - now))))
        start, used = self._windows.get(bucket, (now, 0))
        if now - start >= self.rate_window:
            start, used = now, 0
        reset = max(1, round(start + self.rate_window - now))
        if used >= self.rate_limit:
            self._blocked_until[bucket] = now + self.block_seconds
            self._windows.pop(bucket, None)  # a fresh window once the block lifts
            response = self._error(request, 429, "ThrottlerException", MSG_THROTTLED)
            return self._with_limits(response, (self.rate_limit, 0, math.ceil(self.block_seconds)))
        self._windows[bucket] = (start, used + 1)
        return (self.rate_limit, self.rate_limit - used - 1, reset)

    def _turned_down(self, response: Response, status: str) -> Response:
        """The create went through and was cancelled or rejected straight away: answer with that booking."""
        if response.status_code != 201:
            return response
        booking = self.bookings[json.loads(bytes(response.body))["data"]["uid"]]
        booking.update(status=status, updatedAt=_iso(self.now()))
        return self._ok(booking, 201)

    @staticmethod
    def _with_limits(response: Response, limits: tuple[int, int, int]) -> Response:
        limit, remaining, reset = limits
        response.headers["X-RateLimit-Limit-Default"] = str(limit)
        response.headers["X-RateLimit-Remaining-Default"] = str(remaining)
        response.headers["X-RateLimit-Reset-Default"] = str(reset)
        return response

    def _error(self, request: Request, status: int, code: str, message: str) -> JSONResponse:
        names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests"}
        return JSONResponse(
            {
                "status": "error",
                "timestamp": _iso(self.now()),
                "path": request.url.path,
                "error": {
                    "code": code,
                    "message": message,
                    "details": {"message": message, "error": names.get(status, "Error"), "statusCode": status},
                },
            },
            status,
        )

    @staticmethod
    def _ok(data: Any, status: int = 200, **extra: Any) -> JSONResponse:
        return JSONResponse({"status": "success", "data": data, **extra}, status)

    def _unimplemented(self, request: Request, _data: Any) -> Response:
        self.spec_violations.append(f"{request.method} {request.url.path}: in the spec but not implemented by the fake")
        return self._error(request, 501, "NotImplementedException", "not implemented by the local Cal.com server")

    # -- /v2/me, event types --------------------------------------------------------------------------

    def _me(self, request: Request, _data: Any) -> Response:
        default = self.default_schedule(self.me)
        default_id = default.id if default else None
        return self._ok({**self.me.out(), "timeFormat": 12, "defaultScheduleId": default_id, "weekStart": "Sunday"})

    def _event_types(self, request: Request, _data: Any) -> Response:
        return self._ok([et.out() for et in self.event_types.values()])

    def _event_type(self, request: Request, _data: Any) -> Response:
        et = self.event_types.get(_int(request.path_params["id"]))
        if et is None:
            return self._error(
                request, 404, "NotFoundException", f"Event type with id={request.path_params['id']} not found"
            )
        return self._ok(et.out())

    # -- availability -------------------------------------------------------------------------------

    def _busy(self, host_id: int, ignore_uid: str | None = None) -> list[tuple[datetime, datetime]]:
        out = []
        for b in self.bookings.values():
            if b["status"] in ("cancelled", "rejected") or b["uid"] == ignore_uid:
                continue
            if host_id in {h["id"] for h in b["hosts"]}:
                et = self.event_types.get(b["eventTypeId"])
                before = timedelta(minutes=et.before_buffer if et else 0)
                after = timedelta(minutes=et.after_buffer if et else 0)
                out.append((_parse(b["start"]) - before, _parse(b["end"]) + after))
        return out

    def _reserved(self, et: EventType, start: datetime, end: datetime, key: str | None) -> bool:
        now = self.now()
        for r in self.reservations.values():
            if (
                r["eventTypeId"] == et.id
                and r["key"] != key
                and r["until"] > now
                and r["start"] < end
                and start < r["end"]
            ):
                return True
        return False

    def _schedule_of(self, et: EventType, host: Host) -> Schedule | None:
        if et.schedule_id is not None:
            return self.schedules[et.schedule_id]
        return self.default_schedule(host)

    def _in_hours(self, et: EventType, host: Host, start: datetime, end: datetime) -> bool:
        schedule = self._schedule_of(et, host)
        if schedule is None:
            return False
        tz = ZoneInfo(schedule.time_zone)
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        if local_start.date() != (local_end - timedelta(microseconds=1)).date():
            return False
        minutes = local_start.hour * 60 + local_start.minute
        end_minutes = minutes + int((end - start).total_seconds() // 60)
        return any(a <= minutes and end_minutes <= b for a, b in schedule.windows(local_start.date()))

    def _free_hosts(
        self, et: EventType, hosts: list[Host], start: datetime, end: datetime, ignore_uid: str | None = None
    ) -> list[Host]:
        padded = (start - timedelta(minutes=et.before_buffer), end + timedelta(minutes=et.after_buffer))
        free = []
        for host in hosts:
            if all(not (b0 < padded[1] and padded[0] < b1) for b0, b1 in self._busy(host.id, ignore_uid)):
                free.append(host)
        return free

    def _bookable_hosts(
        self, et: EventType, start: datetime, key: str | None, ignore_uid: str | None = None
    ) -> list[Host]:
        end = start + timedelta(minutes=et.length)
        if self._reserved(et, start, end, key):
            return []
        working = [h for h in et.hosts if self._in_hours(et, h, start, end)]
        free = self._free_hosts(et, working, start, end, ignore_uid)
        if et.scheduling_type == "collective":
            return free if len(free) == len(et.hosts) else []
        return free

    def _in_bounds(self, et: EventType, start: datetime) -> bool:
        now = self.now()
        return now + timedelta(minutes=et.minimum_notice) <= start <= now + timedelta(days=et.booking_window_days)

    def _slots(self, request: Request, _data: Any) -> Response:
        q = request.query_params
        et = self.event_types.get(_int(q.get("eventTypeId")))
        if et is None:
            return self._error(request, 404, "NotFoundException", "Event type not found")
        start = _parse_query_time(q["start"])
        end = _parse_query_time(q["end"], end=True)
        out_tz = ZoneInfo(q.get("timeZone") or "UTC")
        ignore = q.get("bookingUidToReschedule")
        step = timedelta(minutes=et.slot_interval or et.length)
        length = timedelta(minutes=et.length)
        # Candidate starts step through each host's open ranges; a start is offered if a host can take it.
        starts: set[datetime] = set()
        for host in et.hosts:
            schedule = self._schedule_of(et, host)
            if schedule is None:
                continue
            tz = ZoneInfo(schedule.time_zone)
            day = start.astimezone(tz).date() - timedelta(days=1)
            while day <= end.astimezone(tz).date():
                for a, b in schedule.windows(day):
                    cursor, close = _local(day, a, tz), _local(day, b, tz)
                    while cursor + length <= close:
                        starts.add(cursor)
                        cursor += step
                day += timedelta(days=1)
        result: dict[str, list[dict[str, str]]] = {}
        for cursor in sorted(starts):
            if (
                start <= cursor < end
                and self._in_bounds(et, cursor)
                and self._bookable_hosts(et, cursor, _bearer(request), ignore)
            ):
                local = cursor.astimezone(out_tz)
                item = {"start": _iso_local(local)}
                if q.get("format") == "range" and self.honour_range_format:
                    item["end"] = _iso_local((cursor + length).astimezone(out_tz))
                result.setdefault(local.date().isoformat(), []).append(item)
        return self._ok(result)

    # -- reservations -------------------------------------------------------------------------------

    def _reserve(self, request: Request, data: dict[str, Any]) -> Response:
        et = self.event_types.get(int(data["eventTypeId"]))
        if et is None:
            return self._error(request, 404, "NotFoundException", "Event type not found")
        start = _parse(data["slotStart"])
        length = int(data.get("slotDuration") or et.length)
        if not self._bookable_hosts(et, start, _bearer(request)):
            return self._error(request, 400, "BadRequestException", MSG_TAKEN)
        uid = secrets.token_urlsafe(12)
        minutes = int(data.get("reservationDuration") or 5)
        until = self.now() + timedelta(minutes=minutes)
        self.reservations[uid] = {
            "eventTypeId": et.id,
            "start": start,
            "end": start + timedelta(minutes=length),
            "until": until,
            "key": _bearer(request),
        }
        return self._ok(
            {
                "eventTypeId": et.id,
                "slotStart": _iso(start),
                "slotEnd": _iso(start + timedelta(minutes=length)),
                "slotDuration": length,
                "reservationUid": uid,
                "reservationDuration": minutes,
                "reservationUntil": _iso(until),
            },
            201,
        )

    def _reservation(self, request: Request, _data: Any) -> Response:
        uid = request.path_params["uid"]
        r = self.reservations.get(uid)
        if r is None:
            return self._error(request, 404, "NotFoundException", f"Reserved slot with uid={uid} not found")
        if request.method == "DELETE":
            del self.reservations[uid]
            return self._ok(None)
        return self._ok({"eventTypeId": r["eventTypeId"], "slotStart": _iso(r["start"]), "reservationUid": uid})

    # -- bookings -----------------------------------------------------------------------------------

    def _bookings(self, request: Request, data: Any) -> Response:
        if request.method == "POST":
            return self._create(request, data)
        return self._list(request)

    def _create(self, request: Request, data: dict[str, Any]) -> Response:
        et = self.event_types.get(int(data.get("eventTypeId") or 0))
        if et is None:
            return self._error(
                request, 404, "NotFoundException", f"Event type with id={data.get('eventTypeId')} not found"
            )
        start = _parse(data["start"])
        attendee = data["attendee"]
        if et.requires_email and not et.hide_email and not attendee.get("email"):
            return self._error(request, 400, "BadRequestException", "responses - {email}error_required_field")
        if start < self.now():
            return self._error(request, 400, "BadRequestException", MSG_PAST)
        if not self._in_bounds(et, start):
            return self._error(request, 400, "BadRequestException", MSG_OUT_OF_BOUNDS)
        hosts = self._bookable_hosts(et, start, _bearer(request))
        if not hosts:
            message = MSG_TEAM_TAKEN if et.scheduling_type else MSG_TAKEN
            return self._error(request, 400, "BadRequestException", message)
        booking = self._new_booking(et, start, attendee, self._assign(et, hosts, start), data)
        return self._ok(booking, 201)

    def _assign(self, et: EventType, free: list[Host], start: datetime) -> list[Host]:
        if et.scheduling_type == "collective":
            return list(et.hosts)
        if et.scheduling_type == "roundRobin":

            def load(host: Host) -> int:
                return sum(
                    1
                    for b in self.bookings.values()
                    if b["status"] != "cancelled" and host.id in {h["id"] for h in b["hosts"]}
                )

            return [min(free, key=lambda h: (load(h), h.id))]
        return [free[0]]

    def _new_booking(
        self,
        et: EventType,
        start: datetime,
        attendee: dict[str, Any],
        hosts: list[Host],
        data: dict[str, Any],
        rescheduled_from: str | None = None,
    ) -> dict[str, Any]:
        now = self.now()
        booking_id = next(self._ids)
        uid = secrets.token_urlsafe(16)
        end = start + timedelta(minutes=et.length)
        responses = dict(data.get("bookingFieldsResponses") or {})
        location = data.get("location")
        location_text = ""
        if isinstance(location, dict):
            location_text = location.get("address") or location.get("phone") or ""
        elif attendee.get("phoneNumber"):
            location_text = attendee["phoneNumber"]
        booking = {
            "id": booking_id,
            "uid": uid,
            "title": f"{et.title} between {hosts[0].name} and {attendee['name']}",
            "description": "",
            "hosts": [h.out() for h in hosts],
            "status": "pending" if et.price else "accepted",
            "cancellationReason": None,
            "cancelledByEmail": None,
            "reschedulingReason": data.get("reschedulingReason"),
            "rescheduledByEmail": None,
            "rescheduledFromUid": rescheduled_from,
            "rescheduledToUid": None,
            "start": _iso(start),
            "end": _iso(end),
            "duration": et.length,
            "eventTypeId": et.id,
            "eventType": {"id": et.id, "slug": et.slug},
            "meetingUrl": None,
            "location": location_text,
            "absentHost": False,
            "createdAt": _iso(now),
            "updatedAt": _iso(now),
            "metadata": dict(data.get("metadata") or {}),
            "rating": None,
            "icsUid": f"{uid}@Cal.com",
            "attendees": [
                {
                    "name": attendee["name"],
                    "email": attendee.get("email") or "",
                    "timeZone": attendee["timeZone"],
                    "language": attendee.get("language", "en"),
                    "absent": False,
                    "phoneNumber": attendee.get("phoneNumber"),
                }
            ],
            "guests": data.get("guests") or [],
            "bookingFieldsResponses": {
                "name": attendee["name"],
                "email": attendee.get("email") or "",
                "attendeePhoneNumber": attendee.get("phoneNumber"),
                **responses,
            },
        }
        if et.price:
            payment_uid = secrets.token_urlsafe(10)
            booking["paymentUid"] = payment_uid
            booking["paymentLink"] = f"{self.web_app_url}/payment/{payment_uid}"
        self.bookings[uid] = booking
        return booking

    def _list(self, request: Request) -> Response:
        q = request.query_params
        now = self.now()
        items = list(self.bookings.values())
        statuses = [s for value in q.getlist("status") for s in value.split(",")]

        def status_ok(b: dict[str, Any]) -> bool:
            if not statuses:
                return True
            end = _parse(b["end"])
            kinds = set()
            if b["status"] in ("cancelled", "rejected"):
                kinds.add("cancelled")
            elif end >= now:
                kinds.add("upcoming")
                if b["status"] == "pending":
                    kinds.add("unconfirmed")
            else:
                kinds.add("past")
            return bool(kinds & set(statuses))

        items = [b for b in items if status_ok(b)]
        ids: set[int] = set()
        for name in ("eventTypeIds", "eventTypeId"):
            if q.get(name):
                ids |= {int(x) for x in q[name].split(",") if x}
        if ids:
            items = [b for b in items if b["eventTypeId"] in ids]
        if q.get("attendeeName"):
            needle = q["attendeeName"].lower()
            items = [b for b in items if any(needle in a["name"].lower() for a in b["attendees"])]
        if q.get("attendeeEmail"):
            items = [b for b in items if any(a["email"] == q["attendeeEmail"] for a in b["attendees"])]
        if q.get("bookingUid"):
            items = [b for b in items if b["uid"] == q["bookingUid"]]
        for param, key, after in (
            ("afterStart", "start", True),
            ("beforeEnd", "end", False),
            ("afterCreatedAt", "createdAt", True),
            ("beforeCreatedAt", "createdAt", False),
            ("afterUpdatedAt", "updatedAt", True),
            ("beforeUpdatedAt", "updatedAt", False),
        ):
            if q.get(param):
                bound = _parse_query_time(q[param])
                items = [b for b in items if (_parse(b[key]) >= bound if after else _parse(b[key]) <= bound)]
        sort_key, reverse = "start", False
        for param, key in (
            ("sortStart", "start"),
            ("sortEnd", "end"),
            ("sortCreated", "createdAt"),
            ("sortUpdatedAt", "updatedAt"),
        ):
            if q.get(param):
                sort_key, reverse = key, q[param] == "desc"
        items.sort(key=lambda b: (_parse(b[sort_key]), b["id"]), reverse=reverse)
        take = int(float(q.get("take") or 100))
        skip = int(float(q.get("skip") or 0))
        page = items[:take] if self.repeat_first_page else items[skip : skip + take]
        total = len(items)
        pages = max(1, -(-total // take)) if take else 1
        pagination: dict[str, Any] = {
            "totalItems": total,
            "remainingItems": max(0, total - skip - len(page)),
            "returnedItems": len(page),
            "itemsPerPage": take,
            "currentPage": skip // take + 1 if take else 1,
            "totalPages": pages,
            "hasNextPage": self.repeat_first_page or skip + len(page) < total,
            "hasPreviousPage": skip > 0,
        }
        if not self.page_counts:
            for key in ("totalItems", "remainingItems", "returnedItems", "totalPages"):
                del pagination[key]
        return self._ok(page, pagination=pagination)

    def _get_booking(self, request: Request, _data: Any) -> Response:
        booking = self.bookings.get(request.path_params["uid"])
        if booking is None:
            return self._error(
                request, 404, "NotFoundException", f"Booking with uid={request.path_params['uid']} not found"
            )
        return self._ok(booking)

    def _cancel(self, request: Request, data: dict[str, Any] | None) -> Response:
        booking = self.bookings.get(request.path_params["uid"])
        if booking is None:
            return self._error(
                request, 404, "NotFoundException", f"Booking with uid={request.path_params['uid']} not found"
            )
        reason = (data or {}).get("cancellationReason")
        # handleCancelBooking throws @calcom/lib HttpErrors: they reach the client in Nest's base shape.
        if not reason:
            return JSONResponse(
                {"statusCode": 400, "message": "Cancellation reason is required when you are the host"}, 400
            )
        if booking["status"] == "cancelled":
            return JSONResponse({"statusCode": 400, "message": "This booking has already been cancelled."}, 400)
        if _parse(booking["end"]) < self.now():
            return JSONResponse({"statusCode": 400, "message": "Cannot cancel a booking that has already ended"}, 400)
        booking.update(
            status="cancelled", cancellationReason=reason, cancelledByEmail=self.me.email, updatedAt=_iso(self.now())
        )
        return self._ok(booking)

    def _reschedule(self, request: Request, data: dict[str, Any]) -> Response:
        old = self.bookings.get(request.path_params["uid"])
        if old is None:
            return self._error(
                request, 404, "NotFoundException", f"Booking with uid={request.path_params['uid']} not found"
            )
        if old["status"] == "cancelled":
            return self._error(
                request,
                400,
                "BadRequestException",
                f"Can't reschedule booking with uid={old['uid']} because it has been cancelled. "
                "Please provide uid of a booking that is not cancelled.",
            )
        et = self.event_types[old["eventTypeId"]]
        start = _parse(data["start"])
        if start < self.now():
            return self._error(request, 400, "BadRequestException", MSG_PAST)
        if not self._in_bounds(et, start):
            return self._error(request, 400, "BadRequestException", MSG_OUT_OF_BOUNDS)
        hosts = self._bookable_hosts(et, start, _bearer(request), ignore_uid=old["uid"])
        if not hosts:
            return self._error(request, 400, "BadRequestException", MSG_TEAM_TAKEN if et.scheduling_type else MSG_TAKEN)
        keep = [h for h in hosts if h.id in {x["id"] for x in old["hosts"]}]
        attendee = dict(old["attendees"][0])
        new = self._new_booking(
            et,
            start,
            attendee,
            keep or self._assign(et, hosts, start),
            {
                "metadata": old["metadata"],
                "bookingFieldsResponses": old["bookingFieldsResponses"],
                "reschedulingReason": data.get("reschedulingReason"),
            },
            rescheduled_from=old["uid"],
        )
        old.update(status="cancelled", rescheduledToUid=new["uid"], updatedAt=_iso(self.now()))
        return self._ok(new, 201)

    # -- webhooks -----------------------------------------------------------------------------------

    def _webhooks(self, request: Request, data: Any) -> Response:
        if request.method == "POST":
            hook_id = next(self._hook_ids)
            hook = {
                "id": hook_id,
                "userId": self.me.id,
                "subscriberUrl": data["subscriberUrl"],
                "triggers": list(data["triggers"]),
                "active": data["active"],
                "payloadTemplate": data.get("payloadTemplate"),
                "secret": data.get("secret"),
            }
            self.webhooks[hook_id] = hook
            return self._ok(hook, 201)
        take = int(float(request.query_params.get("take") or 250))
        skip = int(float(request.query_params.get("skip") or 0))
        hooks = sorted(self.webhooks.values(), key=lambda h: h["id"])
        return self._ok(hooks[skip : skip + take])

    def _webhook(self, request: Request, data: Any) -> Response:
        hook = self.webhooks.get(_int(request.path_params["id"]))
        if hook is None:
            return self._error(request, 404, "NotFoundException", "Webhook not found")
        if request.method == "DELETE":
            del self.webhooks[hook["id"]]
        elif request.method == "PATCH":
            hook.update({k: v for k, v in data.items() if k in hook})
        return self._ok(hook)

    # -- schedules (the key owner's) ------------------------------------------------------------------

    def _get_default_schedule(self, request: Request, _data: Any) -> Response:
        default = self.default_schedule(self.me)
        return self._ok(default.out(default.id) if default else None)

    def _schedule(self, request: Request, data: Any) -> Response:
        schedule_id = _int(request.path_params["id"])
        schedule = self.schedules.get(schedule_id)
        if schedule is None:
            return self._error(
                request, 404, "NotFoundException", f"Schedule with ID={request.path_params['id']} does not exist."
            )
        if schedule.owner_id != self.me.id:
            return self._error(
                request,
                403,
                "ForbiddenException",
                f"User with ID={self.me.id} does not own schedule with ID={schedule.id}",
            )
        if request.method == "PATCH":
            problem = _schedule_input_problem(data)
            if problem:
                return self._error(request, 400, "BadRequestException", problem)
            if "name" in data:
                schedule.name = data["name"]
            if "timeZone" in data:
                schedule.time_zone = data["timeZone"]
            # Cal.com's repository deletes every weekly row (or every override) and writes the ones sent.
            if "availability" in data:
                schedule.availability = copy.deepcopy(data["availability"])
            if "overrides" in data:
                schedule.overrides = [
                    {"date": o["date"], "startTime": o["startTime"], "endTime": o["endTime"]} for o in data["overrides"]
                ]
            if data.get("isDefault"):
                self._default_schedules[schedule.owner_id] = schedule.id
        return self._ok(schedule.out(self._default_schedules.get(schedule.owner_id)))

    # -- outgoing webhooks --------------------------------------------------------------------------

    def webhook_body(self, trigger: str, booking_uid: str) -> dict[str, Any]:
        """The body Cal.com sends for `trigger` about this booking (reference §3)."""
        b = self.bookings[booking_uid]
        et = self.event_types[b["eventTypeId"]]
        host = b["hosts"][0]
        if trigger in ("MEETING_ENDED", "MEETING_STARTED"):
            # Flat: the stored booking row plus triggerEvent; no createdAt, no payload wrapper.
            return {
                "triggerEvent": trigger,
                "id": b["id"],
                "uid": b["uid"],
                "userId": host["id"],
                "eventTypeId": et.id,
                "title": b["title"],
                "description": b["description"],
                "startTime": b["start"],
                "endTime": b["end"],
                "location": b["location"],
                "status": b["status"].upper(),
                "paid": not b.get("paymentUid"),
                "metadata": b["metadata"],
                "responses": {k: v for k, v in b["bookingFieldsResponses"].items()},
                "createdAt": b["createdAt"],
                "updatedAt": b["updatedAt"],
                "attendees": [
                    {"name": a["name"], "email": a["email"], "timeZone": a["timeZone"], "phoneNumber": a["phoneNumber"]}
                    for a in b["attendees"]
                ],
            }
        status = {"BOOKING_CANCELLED": "CANCELLED", "BOOKING_REJECTED": "REJECTED"}.get(
            trigger, "PENDING" if b["status"] == "pending" else "ACCEPTED"
        )
        responses = {
            "name": {"label": "your_name", "value": b["attendees"][0]["name"]},
            "email": {"label": "email_address", "value": b["attendees"][0]["email"]},
            "attendeePhoneNumber": {"label": "phone_number", "value": b["attendees"][0]["phoneNumber"]},
        }
        for key, value in b["bookingFieldsResponses"].items():
            if key not in responses:
                responses[key] = {"label": key, "value": value}
        payload: dict[str, Any] = {
            "type": et.slug,
            "title": b["title"],
            "description": "",
            "additionalNotes": b["bookingFieldsResponses"].get("notes", ""),
            "customInputs": {},
            "startTime": b["start"].replace(".000Z", "Z"),
            "endTime": b["end"].replace(".000Z", "Z"),
            "organizer": {
                "id": host["id"],
                "name": host["name"],
                "email": host["email"],
                "username": host["username"],
                "timeZone": host["timeZone"],
                "language": {"locale": "en"},
                "timeFormat": "h:mma",
            },
            "responses": responses,
            "userFieldsResponses": {},
            "attendees": [
                {
                    "email": a["email"],
                    "name": a["name"],
                    "timeZone": a["timeZone"],
                    "phoneNumber": a["phoneNumber"],
                    "language": {"locale": a.get("language", "en")},
                }
                for a in b["attendees"]
            ],
            "location": b["location"],
            "hideCalendarNotes": False,
            "requiresConfirmation": None,
            "eventTypeId": et.id,
            "seatsShowAttendees": True,
            "seatsPerTimeSlot": None,
            "uid": b["uid"],
            "eventTitle": et.title,
            "eventDescription": "",
            "price": et.price,
            "currency": et.currency,
            "length": et.length,
            "bookingId": b["id"],
            "metadata": b["metadata"],
            "status": status,
        }
        if trigger == "BOOKING_CANCELLED":
            payload["cancellationReason"] = b.get("cancellationReason")
            payload["cancelledBy"] = b.get("cancelledByEmail")
        if trigger == "BOOKING_RESCHEDULED" and b.get("rescheduledFromUid"):
            old = self.bookings[b["rescheduledFromUid"]]
            payload.update(
                rescheduleId=old["id"],
                rescheduleUid=old["uid"],
                rescheduleStartTime=old["start"],
                rescheduleEndTime=old["end"],
                rescheduledBy=self.me.email,
            )
        if trigger in ("BOOKING_PAYMENT_INITIATED", "BOOKING_PAID") and b.get("paymentUid"):
            payload["paymentId"] = b["id"]
            payload["paymentData"] = {"uid": b["paymentUid"], "link": b.get("paymentLink")}
        return {"triggerEvent": trigger, "createdAt": _iso(self.now()), "payload": payload}

    async def deliver_webhook(
        self, url: str, secret: str | None, trigger: str, booking_uid: str, *, signature: str | None = None
    ) -> httpx.Response:
        """POST the signed webhook Cal.com would send (no secret: the literal `no-secret-provided`)."""
        raw = json.dumps(self.webhook_body(trigger, booking_uid), separators=(",", ":")).encode()
        if signature is None:
            signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest() if secret else "no-secret-provided"
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                url, content=raw, headers={"Content-Type": "application/json", "X-Cal-Signature-256": signature}
            )


# -- helpers ----------------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _parse_query_time(text: str, *, end: bool = False) -> datetime:
    """Cal.com reads start/end as UTC; a date-only end (or one at 00:00:00) means the end of that day."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    else:
        moment = _parse(text)
    if end and moment.time() == datetime.min.time():
        moment += timedelta(days=1) - timedelta(seconds=1)
    return moment


def _schedule_input_problem(data: Any) -> str | None:
    """What class-validator on UpdateScheduleInput_2024_06_11 refuses beyond the OpenAPI schema: a time zone
    that is not one (`@IsTimeZone`) and an override date that is not a strict ISO 8601 date (`@IsISO8601`)."""
    if "timeZone" in data:
        try:
            ZoneInfo(data["timeZone"])
        except (ValueError, KeyError):
            return "timeZone must be a valid IANA time-zone"
    for index, override in enumerate(data.get("overrides") or []):
        try:
            date.fromisoformat(override["date"])
        except (ValueError, TypeError):
            return f"overrides.{index}.date must be a valid ISO 8601 date string"
        if len(override["date"]) != 10:
            return f"overrides.{index}.date must be a valid ISO 8601 date string"
    return None


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def _hhmm(minute: int) -> str:
    return "23:59" if minute >= 24 * 60 else f"{minute // 60:02d}:{minute % 60:02d}"


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso_local(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def clone_event_type(et: EventType, **changes: Any) -> EventType:
    copied = copy.deepcopy(et)
    for key, value in changes.items():
        setattr(copied, key, value)
    return copied
