"""`silentpartner doctor`: is this deployment configured so that calls will work?

Checks settings (Twilio signing, the quick start's variables), then each business (timezone, numbers,
services, team), then the database (reachable, migrated), then, where keys are present, the outside
services (packages add checks to `CHECKS`). Every finding that is not OK says what to do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from silentpartner.business import Business, Businesses
from silentpartner.calendar.calcom_doctor import check_calcom
from silentpartner.clock import Clock, SystemClock
from silentpartner.findings import Finding
from silentpartner.phones import timezone_of
from silentpartner.runtime import Runtime, new_http_client
from silentpartner.settings import Settings
from silentpartner.store import migrate
from silentpartner.store.db import Database
from silentpartner.store.problems import DatabaseUnavailable
from silentpartner.twilio_api import make_twilio_client
from silentpartner.voice.realtime.doctor import check_realtime
from silentpartner.voice.recording_files import check_recordings
from silentpartner.voice.speech_doctor import check_speech

__all__ = ["CHECKS", "Check", "Finding", "diagnose", "render", "summarize"]

Check = Callable[[Runtime], Awaitable[list[Finding]]]


def check_settings(settings: Settings) -> list[Finding]:
    out = []
    twilio = bool(settings.twilio_account_sid and settings.twilio_auth_token)
    if settings.public_url.startswith("https://"):
        out.append(Finding("ok", "PUBLIC_URL", settings.public_url))
    elif twilio:
        out.append(
            Finding(
                "fail",
                "PUBLIC_URL",
                f"{settings.public_url} is not https; Twilio needs the public https URL it reaches you at",
            )
        )
    else:
        out.append(Finding("ok", "PUBLIC_URL", f"{settings.public_url} (local only; set an https URL to go live)"))
    out += check_twilio_signing(settings)
    if settings.calcom_api_key and not settings.calcom_webhook_secret:
        level = "warn" if settings.calcom_allow_unsigned_webhooks else "fail"
        out.append(
            Finding(
                level,
                "CALCOM_WEBHOOK_SECRET",
                "not set: Cal.com webhooks are "
                + (
                    "accepted unsigned (CALCOM_ALLOW_UNSIGNED_WEBHOOKS)"
                    if settings.calcom_allow_unsigned_webhooks
                    else "refused"
                )
                + "; set a secret and run `silentpartner setup calcom-webhook`",
            )
        )
    if settings.call_brain == "chat" and not settings.openai_api_key:
        out.append(
            Finding(
                "fail",
                "CALL_BRAIN",
                "is 'chat' but OPENAI_API_KEY is not set: calls would fall back to "
                "the rules brain; set the key or CALL_BRAIN=rules",
            )
        )
    if settings.calcom_allow_unsigned_webhooks:
        out.append(
            Finding(
                "warn",
                "CALCOM_ALLOW_UNSIGNED_WEBHOOKS",
                "unsigned Cal.com webhooks are accepted: "
                "anyone who can reach /webhooks/calcom can change your bookings mirror",
            )
        )
    if not twilio:
        out.append(
            Finding(
                "ok",
                "Twilio",
                "not configured: `simulate` works; no calls are answered and no texts are "
                "sent (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to take real calls)",
            )
        )
    return out + check_quick_start(settings)


def check_twilio_signing(settings: Settings) -> list[Finding]:
    """Twilio webhooks fail closed: without TWILIO_AUTH_TOKEN they are refused unless explicitly allowed
    unsigned, which the settings only permit on a loopback PUBLIC_URL."""
    mode = settings.twilio_signing
    if mode == "checked":
        return [Finding("ok", "Twilio signing", "every Twilio webhook must carry a valid X-Twilio-Signature")]
    if mode == "unsigned-allowed":
        return [
            Finding(
                "warn",
                "TWILIO_ALLOW_UNSIGNED",
                "unsigned Twilio webhooks are accepted (this machine only); set TWILIO_AUTH_TOKEN before going live",
            )
        ]
    if settings.public_url_is_loopback:
        return []  # local only and nothing accepted: the quick start, not a problem
    return [
        Finding(
            "fail",
            "TWILIO_AUTH_TOKEN",
            f"not set while PUBLIC_URL is {settings.public_url}: every Twilio webhook is refused, so calls and "
            "texts go unanswered; set TWILIO_AUTH_TOKEN (Twilio console > Account > API keys & tokens)",
        )
    ]


def check_quick_start(settings: Settings) -> list[Finding]:
    """One business from the environment (BUSINESS_NAME, no BUSINESSES_FILE): what it silently assumes."""
    if not settings.business_name or settings.businesses_file is not None:
        return []
    subject = "quick start"
    out = []
    if not settings.business_timezone:
        guess = timezone_of(settings.business_number or "")
        hint = f" (a {settings.business_number} number is in {guess})" if guess else ""
        out.append(
            Finding(
                "warn",
                "BUSINESS_TIMEZONE",
                f"not set: {settings.business_name} keeps America/Los_Angeles hours and times{hint}; "
                "set BUSINESS_TIMEZONE to an IANA zone such as America/Denver",
            )
        )
    has_ids = settings.calcom_event_type_id is not None or bool(settings.calcom_event_type_ids)
    if settings.calcom_api_key and not has_ids:
        out.append(
            Finding(
                "warn",
                "CALCOM_EVENT_TYPE_ID",
                f"not set: {settings.business_name} books on the embedded calendar, not Cal.com; set "
                "CALCOM_EVENT_TYPE_ID (or CALCOM_EVENT_TYPE_IDS=service-call=123,estimate=456)",
            )
        )
    elif has_ids and not settings.calcom_api_key:
        out.append(
            Finding(
                "warn",
                subject,
                "CALCOM_EVENT_TYPE_ID is set but CALCOM_API_KEY is not: bookings go on the embedded calendar",
            )
        )
    return out


def check_business(business: Business, today: date) -> list[Finding]:
    subject = f"business {business.slug}"
    out = [Finding("ok", subject, f"{business.name}, {business.timezone}, answers {', '.join(business.numbers)}")]
    if business.hours.is_closed_all_week() and all(s.hours is None for s in business.services):
        out.append(Finding("fail", subject, "closed every day: add hours under [business.hours]"))
    for service in business.services:
        hours = business.hours_for(service)
        if hours.is_closed_all_week():
            out.append(Finding("fail", f"{subject} service {service.slug}", "has no bookable hours"))
        if business.team and not business.team_for(service.slug):
            out.append(
                Finding(
                    "fail",
                    f"{subject} service {service.slug}",
                    "no team member offers it: add it to someone's services",
                )
            )
        if service.min_notice_minutes >= business.booking_window_days * 24 * 60:
            out.append(
                Finding("fail", f"{subject} service {service.slug}", "minimum notice is longer than the booking window")
            )
    upcoming = [d for d in business.closed_dates if d >= today]
    if len(upcoming) > 60:
        out.append(Finding("warn", subject, f"{len(upcoming)} closed dates ahead; is that right?"))
    if business.owner_mobile in business.numbers:
        out.append(Finding("fail", subject, "owner_mobile is also a business number: forwarded calls would loop"))
    if business.calendar == "calcom":
        out.append(Finding("ok", subject, "calendar: Cal.com"))
    else:
        out.append(Finding("ok", subject, "calendar: embedded local calendar"))
    return out


async def check_database(db: Database) -> list[Finding]:
    """Reachable, and at the newest migration (serve and `db upgrade` migrate; an unknown revision is newer
    code's, which this version must not run against)."""
    try:
        await db.check()
    except DatabaseUnavailable as exc:
        return [Finding("fail", "database", str(exc))]
    kind = "SQLite" if db.is_sqlite else "PostgreSQL"
    current, head = await migrate.current_revision(db), migrate.head_revision()
    if current == head:
        return [Finding("ok", "database", f"{kind} reachable, schema at revision {head}")]
    if current is None:
        return [
            Finding("warn", "database", f"{kind} reachable but empty: `silentpartner db upgrade` (or serve) creates it")
        ]
    if current in migrate.known_revisions():
        return [
            Finding(
                "warn",
                "database",
                f"schema at revision {current}, behind {head}: `silentpartner db upgrade` (or serve) brings it up",
            )
        ]
    return [
        Finding(
            "fail",
            "database",
            f"schema at revision {current}, which this version does not know (a newer release migrated it): "
            "run that release, or restore a matching backup",
        )
    ]


async def check_twilio_numbers(runtime: Runtime) -> list[Finding]:
    """With Twilio keys: each business number exists on the account and its voice URL is ours."""
    client = make_twilio_client(runtime.settings)
    if client is None:
        return []
    expected = runtime.settings.public_url + "/twilio/voice"
    out = []
    for business in runtime.businesses:
        for number in business.numbers:
            try:
                found = await client.incoming_phone_numbers.list_async(phone_number=number, limit=1)
            except Exception as exc:
                out.append(Finding("fail", f"Twilio {number}", f"could not ask Twilio: {exc}"))
                continue
            if not found:
                out.append(
                    Finding(
                        "fail",
                        f"Twilio {number}",
                        f"not on this Twilio account: buy or port it, or fix the number in business {business.slug}",
                    )
                )
            elif (found[0].voice_url or "").rstrip("/") != expected:
                out.append(
                    Finding(
                        "fail",
                        f"Twilio {number}",
                        f"voice URL is {found[0].voice_url!r}; set it to {expected} (POST) in the Twilio console",
                    )
                )
            else:
                out.append(Finding("ok", f"Twilio {number}", f"rings {expected}"))
    return out


CHECKS: list[Check] = [check_twilio_numbers, check_calcom, check_speech, check_realtime, check_recordings]


async def diagnose(
    settings: Settings, businesses: Businesses, clock: Clock | None = None, extra: list[Check] | None = None
) -> list[Finding]:
    """Every finding, in the order they are printed."""
    clock = clock or SystemClock()
    findings = check_settings(settings)
    today = clock.now().date()
    for business in businesses:
        findings += check_business(business, today)
    try:
        db = Database(settings.database_url)
    except DatabaseUnavailable as exc:
        findings.append(Finding("fail", "database", str(exc)))
        findings.append(Finding("warn", "outside services", "not checked until the database can be opened"))
        return findings
    runtime = Runtime(settings=settings, businesses=businesses, db=db, http=new_http_client(), clock=clock)
    try:
        findings += await check_database(db)
        for check in [*CHECKS, *(extra or [])]:
            findings += await check(runtime)
    finally:
        await runtime.close()
    return findings


def render(findings: list[Finding]) -> str:
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    return "\n".join(f"[{marks[f.level]}] {f.subject}: {f.message}" for f in findings)


def summarize(businesses: Businesses, findings: list[Finding]) -> str:
    fails = sum(f.level == "fail" for f in findings)
    warns = sum(f.level == "warn" for f in findings)
    return f"{len(businesses)} business(es) checked: {fails} problem(s), {warns} warning(s)"
