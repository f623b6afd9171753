"""A business: its number(s), owner, timezone, hours, services (event types) and team.

Businesses are declared in a `businesses.toml` file (see `demo_business.toml`, the built-in demo used
when no file is given) or, for the quick start, from the environment alone. The file is validated at
load time; errors name the field and the line it is on.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from silentpartner.phones import InvalidPhoneNumber, lacks_area_code, to_e164, try_e164
from silentpartner.speech_text import describe_weekly_hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class BusinessConfigError(Exception):
    """The businesses file is wrong; the message names the file, line and field."""


class Span(BaseModel):
    """One opening span within a day, local wall-clock time. `end` may be 24:00."""

    model_config = ConfigDict(frozen=True)
    start: time
    end_minutes: int  # minutes after midnight, so 24:00 is expressible

    @property
    def start_minutes(self) -> int:
        return self.start.hour * 60 + self.start.minute

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end_minutes // 60:02d}:{self.end_minutes % 60:02d}"


def _parse_span(text: str) -> Span:
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a span like '08:00-17:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time")
    end = h2 * 60 + m2
    if end <= h1 * 60 + m1:
        raise ValueError(f"{text!r} ends before it starts")
    return Span(start=time(h1, m1), end_minutes=end)


class WeeklyHours(BaseModel):
    """Opening spans per weekday (mon..sun). A missing or empty day is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    mon: tuple[Span, ...] = ()
    tue: tuple[Span, ...] = ()
    wed: tuple[Span, ...] = ()
    thu: tuple[Span, ...] = ()
    fri: tuple[Span, ...] = ()
    sat: tuple[Span, ...] = ()
    sun: tuple[Span, ...] = ()

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _spans(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            spans = [_parse_span(v) if isinstance(v, str) else v for v in value]
            spans.sort(key=lambda s: s.start_minutes)
            for a, b in itertools.pairwise(spans):
                if b.start_minutes < a.end_minutes:
                    raise ValueError(f"spans {a.label()} and {b.label()} overlap")
            return tuple(spans)
        return value

    def for_weekday(self, weekday: int) -> tuple[Span, ...]:
        """Spans for `date.weekday()` (0 = Monday)."""
        return getattr(self, WEEKDAYS[weekday])

    def is_closed_all_week(self) -> bool:
        return not any(self.for_weekday(i) for i in range(7))

    def describe(self) -> str:
        """'Monday to Friday 8 AM to 5 PM, Saturday 9 AM to 1 PM, closed Sunday' style summary."""
        return describe_weekly_hours(
            [[(span.start_minutes, span.end_minutes) for span in self.for_weekday(day)] for day in range(7)]
        )


class Service(BaseModel):
    """A kind of appointment (a Cal.com event type)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    duration_minutes: int = Field(gt=0, le=24 * 60)
    buffer_before_minutes: int = Field(default=0, ge=0, le=24 * 60)
    buffer_after_minutes: int = Field(default=0, ge=0, le=24 * 60)
    min_notice_minutes: int = Field(default=0, ge=0)
    emergency: bool = False
    deposit: float | None = Field(default=None, ge=0)
    price: str | None = None
    hours: WeeklyHours | None = None  # overrides the business hours (e.g. emergencies 07:00-21:00)
    calcom_event_type_id: int | None = None
    aliases: tuple[str, ...] = ()

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def takes_deposit(self) -> bool:
        return bool(self.deposit)


class TeamMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1)
    phone: str | None = None
    services: tuple[str, ...] = ()  # empty means every service
    hours: WeeklyHours | None = None  # None means the business hours
    calcom_user_id: int | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return _e164(value) if value else None

    def offers(self, service_slug: str) -> bool:
        return not self.services or service_slug in self.services


def _e164(value: str) -> str:
    if lacks_area_code(value):
        raise ValueError(f"{value!r} has no area code; write the whole number in E.164 form, like +15035550100")
    try:
        normalised = to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(str(exc)) from None
    if normalised != value.strip():
        raise ValueError(f"{value!r} is not in E.164 form; write it as {normalised}")
    return normalised


# What a plumbing business treats as an emergency (the default); a business lists its own in the config.
DEFAULT_EMERGENCY_KEYWORDS = (
    "burst pipe",
    "pipe burst",
    "pipe has burst",
    "pipe broke",
    "pipe split",
    "flooding",
    "flooded",
    "flood",
    "water through the ceiling",
    "water coming through the ceiling",
    "ceiling is leaking",
    "water pouring",
    "water is pouring",
    "water gushing",
    "water spraying",
    "water everywhere",
    "sewage backup",
    "sewage backing up",
    "sewage coming up",
    "sewer backup",
    "sewer backing up",
    "raw sewage",
    "no water",
    "no running water",
)
# Water running now: the caller hears how to stop it before anything else.
DEFAULT_SAFETY_KEYWORDS = (
    "burst",
    "flooding",
    "flooded",
    "flood",
    "water through the ceiling",
    "water coming through the ceiling",
    "ceiling is leaking",
    "pouring",
    "gushing",
    "spraying",
    "water everywhere",
    "pipe broke",
    "pipe split",
)
DEFAULT_SAFETY_LINE = (
    "If you can, turn off the main water valve now; it's usually where the water line comes into the house, "
    "often near the water heater or an outside tap. And keep clear of any electrics near the water."
)


class Emergencies(BaseModel):
    """What the business treats as an emergency, and what a caller with water running hears first."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keywords: tuple[str, ...] = DEFAULT_EMERGENCY_KEYWORDS
    safety_keywords: tuple[str, ...] = DEFAULT_SAFETY_KEYWORDS
    safety_line: str | None = DEFAULT_SAFETY_LINE


class ServiceArea(BaseModel):
    """Where the business goes: cities and ZIP prefixes. An address outside it is told so, politely."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cities: tuple[str, ...] = ()
    zip_prefixes: tuple[str, ...] = ()
    description: str | None = None  # how to say it, when the list alone would not ("Portland and its suburbs")

    @field_validator("zip_prefixes")
    @classmethod
    def _zips(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not (prefix.isdigit() and 1 <= len(prefix) <= 5):
                raise ValueError(f"{prefix!r} is not a ZIP prefix (1 to 5 digits, like '972')")
        return value

    def covers(self, city: str | None, postcode: str | None) -> bool | None:
        """True inside, False outside, None when the address says neither city nor ZIP (so we can't tell)."""
        if postcode and self.zip_prefixes:
            return any(postcode.startswith(p) for p in self.zip_prefixes)
        if city and self.cities:
            return city.strip().lower() in {c.lower() for c in self.cities}
        return None

    def describe(self) -> str:
        if self.description:
            return self.description
        names = list(self.cities)
        if not names:
            return "ZIP codes starting " + ", ".join(self.zip_prefixes)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


class FaqEntry(BaseModel):
    """A question callers ask and the business's own answer, matched by meaning (`conversation/faq.py`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    question: str = Field(min_length=3)
    answer: str = Field(min_length=1)


class Business(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    timezone: str
    numbers: tuple[str, ...] = Field(min_length=1)
    owner_mobile: str
    assistant_name: str = "Sam"
    greeting: str | None = None
    hours: WeeklyHours
    closed_dates: tuple[date, ...] = ()
    services: tuple[Service, ...] = Field(min_length=1)
    team: tuple[TeamMember, ...] = ()

    calendar: Literal["local", "calcom"] = "local"
    # Who speaks on calls: OpenAI Realtime speech-to-speech, or the offline engine (local STT/TTS). None: realtime
    # when OPENAI_API_KEY is set, else offline (`voice/engines.py`). `voice` is the Realtime voice.
    speech: Literal["realtime", "offline"] | None = None
    voice: Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"] = "marin"
    calcom_api_key_env: str = "CALCOM_API_KEY"
    # The environment variable holding the owner's PIN: changes by phone (and, when set, reading the schedule
    # by phone) need it, because caller ID can be spoofed. Texts from the owner's and team's numbers don't.
    owner_pin_env: str | None = None
    # The environment variable holding the owner's dashboard token (`/dashboard/`, the `/api/` Bearer token).
    # Unset: a lone business (the demo, the quick start) uses DASHBOARD_TOKEN; with several, it cannot log in.
    owner_token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # When a Cal.com event type insists on an email and the caller has none: "placeholder" books with
    # <digits>@<placeholder_email_domain>; "refuse" takes a message for the owner instead.
    email_fallback: Literal["placeholder", "refuse"] = "placeholder"
    placeholder_email_domain: str = "sms.silentpartner.invalid"

    slot_interval_minutes: int = Field(default=30, gt=0, le=240)
    booking_window_days: int = Field(default=60, gt=0, le=366)
    travel_buffer_minutes: int = Field(default=0, ge=0, le=240)
    hold_minutes: int = Field(default=5, gt=0, le=60)

    allow_emergency_transfer: bool = True
    service_area: ServiceArea | None = None
    emergencies: Emergencies = Field(default_factory=Emergencies)
    faq: tuple[FaqEntry, ...] = ()
    messaging_service_sid: str | None = None
    reminder_hours: tuple[int, ...] = (24, 2)
    review_delay_hours: int = Field(default=2, ge=0)
    review_link: str | None = None
    owner_notifications: Literal["each", "digest", "off"] = "each"
    # Keep both sides of each customer call as one audio file (the owner's and the team's own calls to their
    # assistant are never recorded: they say or key a PIN). Callers hear `recording_notice` before the
    # greeting (None: the standard sentence); each recording is deleted `recording_retention_days` after
    # its call.
    record_calls: bool = False
    recording_notice: str | None = Field(default=None, min_length=1, max_length=300)
    recording_retention_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as America/Los_Angeles") from None
        return value

    @field_validator("service_area", mode="before")
    @classmethod
    def _area(cls, value: Any) -> Any:
        if isinstance(value, str):  # a plain description, as older files have it: nothing to check against
            return {"description": value}
        if isinstance(value, list | tuple):  # a bare list of cities
            return {"cities": value}
        return value

    @field_validator("numbers", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return tuple(_e164(v) for v in value)

    @field_validator("owner_mobile")
    @classmethod
    def _owner(cls, value: str) -> str:
        return _e164(value)

    @model_validator(mode="after")
    def _consistent(self) -> Business:
        slugs = [s.slug for s in self.services]
        dupes = {s for s in slugs if slugs.count(s) > 1}
        if dupes:
            raise ValueError(f"service slugs repeat: {', '.join(sorted(dupes))}")
        for member in self.team:
            unknown = [s for s in member.services if s not in slugs]
            if unknown:
                raise ValueError(f"team member {member.name} offers unknown service(s): {', '.join(unknown)}")
        if self.calendar == "calcom":
            missing = [s.slug for s in self.services if s.calcom_event_type_id is None]
            if missing:
                raise ValueError(
                    "calendar is 'calcom' but these services have no calcom_event_type_id: " + ", ".join(missing)
                )
        return self

    # -- lookups ------------------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def main_number(self) -> str:
        return self.numbers[0]

    def service(self, slug: str) -> Service:
        for service in self.services:
            if service.slug == slug:
                return service
        raise KeyError(slug)

    def emergency_service(self) -> Service | None:
        return next((s for s in self.services if s.emergency), None)

    def default_service(self) -> Service:
        return next((s for s in self.services if not s.emergency), self.services[0])

    def hours_for(self, service: Service | None = None) -> WeeklyHours:
        return service.hours if service is not None and service.hours is not None else self.hours

    def team_for(self, service_slug: str) -> tuple[TeamMember, ...]:
        return tuple(m for m in self.team if m.offers(service_slug))

    def member(self, name: str) -> TeamMember:
        for member in self.team:
            if member.name.lower() == name.lower():
                return member
        raise KeyError(name)

    def is_owner(self, number: str | None) -> bool:
        return number is not None and number == self.owner_mobile

    @property
    def owner_name(self) -> str:
        """How the receptionist names the owner: the first team member, else "the owner"."""
        return self.team[0].name if self.team else "the owner"

    def owner_pin(self, environ: Mapping[str, str]) -> str | None:
        """The owner's PIN from the environment variable `owner_pin_env` names (None: no PIN is set)."""
        value = environ.get(self.owner_pin_env, "").strip() if self.owner_pin_env else ""
        return value or None

    def staff(self, number: str | None) -> TeamMember | None:
        """The team member calling or texting from `number` (the owner's own mobile is the owner, not staff)."""
        if number is None or self.is_owner(number):
            return None
        return next((m for m in self.team if m.phone == number), None)

    def is_own_number(self, number: str | None) -> bool:
        """The owner's or a team member's phone: their calls are not customers' (no text-back, no owner note)."""
        return self.is_owner(number) or self.staff(number) is not None

    def is_closed_on(self, day: date) -> bool:
        return day in self.closed_dates

    def now(self, clock_utc: datetime) -> datetime:
        return clock_utc.astimezone(self.tz)


class Businesses:
    """Every business this deployment answers for, looked up by called number or slug."""

    def __init__(self, businesses: Iterable[Business]) -> None:
        self._all = tuple(businesses)
        if not self._all:
            raise BusinessConfigError("no businesses are configured")
        self._by_slug: dict[str, Business] = {}
        self._by_number: dict[str, Business] = {}
        for business in self._all:
            if business.slug in self._by_slug:
                raise BusinessConfigError(f"business slug {business.slug!r} is used twice")
            self._by_slug[business.slug] = business
            for number in business.numbers:
                if number in self._by_number:
                    raise BusinessConfigError(
                        f"number {number} rings both {self._by_number[number].slug} and {business.slug}"
                    )
                self._by_number[number] = business

    def __iter__(self):
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def by_slug(self, slug: str) -> Business | None:
        return self._by_slug.get(slug)

    def by_number(self, number: str | None) -> Business | None:
        normalised = try_e164(number) if number else None
        return self._by_number.get(normalised) if normalised else None

    def get(self, slug: str | None) -> Business:
        """The business named by slug, or the only one when there is exactly one."""
        if slug is None:
            if len(self._all) == 1:
                return self._all[0]
            raise BusinessConfigError("several businesses are configured: name one with --business SLUG")
        business = self._by_slug.get(slug)
        if business is None:
            known = ", ".join(self._by_slug)
            raise BusinessConfigError(f"no business {slug!r}; configured: {known}")
        return business


# -- loading ----------------------------------------------------------------------------------------


def _locate(text: str, loc: Sequence[str | int]) -> int | None:
    """Best-effort line number (1-based) of the field at `loc` in a businesses TOML file."""
    lines = text.splitlines()
    table = ["business"]
    start = 0
    path = list(loc)
    if path and path[0] == "business":
        path = path[1:]
    index = path.pop(0) if path and isinstance(path[0], int) else 0
    # Find the header of the nth [[business]] table.
    count = -1
    for i, line in enumerate(lines):
        if line.strip() == "[[business]]":
            count += 1
            if count == index:
                start = i
                break
    line_no = start
    while path:
        key = path.pop(0)
        if isinstance(key, int):
            continue
        nxt = path[0] if path and isinstance(path[0], int) else None
        sub = ".".join([*table, str(key)])
        found = None
        seen = -1
        for i in range(line_no, len(lines)):
            stripped = lines[i].strip()
            if i > start and stripped == "[[business]]":
                break
            if stripped in (f"[[{sub}]]", f"[{sub}]"):
                seen += 1
                if nxt is None or seen == nxt:
                    found = i
                    break
            elif re.match(rf"^{re.escape(str(key))}\s*=", stripped):
                found = i
                break
        if found is None:
            return line_no + 1 if line_no else None
        line_no = found
        table.append(str(key))
        if nxt is not None:
            path.pop(0)
    return line_no + 1


def _format_error(source: str, text: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        field = ".".join(str(p) for p in loc) or "(file)"
        line = _locate(text, loc)
        where = f"{source}:{line}" if line else source
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {field}: {message}")
    return "\n".join(problems)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # No min_length here: pydantic would report it as well as the real error of a file's only business.
    business: tuple[Business, ...] = ()


def parse_businesses(text: str, source: str = "businesses.toml") -> Businesses:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BusinessConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        raise BusinessConfigError(_format_error(source, text, exc)) from None
    if not parsed.business:
        raise BusinessConfigError(f"{source}: no [[business]] table: declare at least one business")
    return Businesses(parsed.business)


def demo_businesses() -> Businesses:
    text = resources.files("silentpartner").joinpath("demo_business.toml").read_text("utf-8")
    return parse_businesses(text, "demo_business.toml")


def load_businesses(settings: Any) -> Businesses:
    """Businesses from BUSINESSES_FILE, else one from the environment (quick start), else the demo."""
    path: Path | None = settings.businesses_file
    if path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise BusinessConfigError(f"BUSINESSES_FILE: cannot read {path}: {exc.strerror}") from None
        return parse_businesses(text, str(path))
    if settings.business_name:
        return Businesses([business_from_environment(settings)])
    return demo_businesses()


def business_from_environment(settings: Any) -> Business:
    """The spec's quick start: one Cal.com business configured from environment variables alone."""
    demo = next(iter(demo_businesses()))
    event_ids: dict[str, int] = {}
    if settings.calcom_event_type_ids:
        for pair in settings.calcom_event_type_ids.split(","):
            slug, _, value = pair.partition("=")
            if not value.strip().isdigit():
                raise BusinessConfigError(
                    "CALCOM_EVENT_TYPE_IDS: expected slug=id pairs like service-call=123,estimate=456"
                )
            event_ids[slug.strip()] = int(value)
    elif settings.calcom_event_type_id is not None:
        event_ids[demo.default_service().slug] = settings.calcom_event_type_id
    services = [
        s.model_copy(update={"calcom_event_type_id": event_ids[s.slug]}) for s in demo.services if s.slug in event_ids
    ]
    uses_calcom = bool(settings.calcom_api_key) and bool(services)
    data = {
        "slug": settings.business_slug or re.sub(r"[^a-z0-9]+", "-", settings.business_name.lower()).strip("-"),
        "name": settings.business_name,
        "timezone": settings.business_timezone or demo.timezone,
        "numbers": [settings.business_number or ""],
        "owner_mobile": settings.owner_mobile or "",
        "hours": demo.hours,
        "services": services if uses_calcom else list(demo.services),
        "calendar": "calcom" if uses_calcom else "local",
    }
    for key, env in (("numbers", "BUSINESS_NUMBER"), ("owner_mobile", "OWNER_MOBILE")):
        if data[key] in ("", [""]):
            raise BusinessConfigError(f"{env}: required when BUSINESS_NAME is set (an E.164 number like +15035550100)")
    try:
        return Business.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        env = {"timezone": "BUSINESS_TIMEZONE", "numbers": "BUSINESS_NUMBER", "owner_mobile": "OWNER_MOBILE"}.get(
            str(first["loc"][0]), "BUSINESS_NAME"
        )
        raise BusinessConfigError(f"{env}: {first['msg'].removeprefix('Value error, ')}") from None
