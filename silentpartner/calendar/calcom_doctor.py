"""`doctor` check for Cal.com businesses: the key works, each service's event type exists, and phone-only
bookings are possible (an event type that requires an email makes every caller without one fail or get
a placeholder address)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.calendar.calcom import CalcomCalendar, api_key_for
from silentpartner.calendar.port import CalendarError, NotFound
from silentpartner.findings import Finding

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime


async def check_calcom(runtime: Runtime) -> list[Finding]:
    out: list[Finding] = []
    for business in runtime.businesses:
        if business.calendar != "calcom":
            continue
        subject = f"Cal.com {business.slug}"
        if not api_key_for(business, runtime.settings):
            out.append(
                Finding(
                    "fail",
                    subject,
                    f"{business.calcom_api_key_env} is not set: create an API key in Cal.com "
                    "(Settings > Developer > API keys) and set it",
                )
            )
            continue
        calendar = CalcomCalendar.from_settings(business, runtime.settings, runtime.http, runtime.db, runtime.clock)
        try:
            me = await calendar.ping()
        except CalendarError as exc:
            out.append(
                Finding(
                    "fail",
                    subject,
                    f"Cal.com at {runtime.settings.calcom_api_url} did not accept the key: {exc} "
                    f"(check {business.calcom_api_key_env} and CALCOM_API_URL)",
                )
            )
            continue
        who = (me.get("username") or me.get("email")) if isinstance(me, dict) else None
        out.append(Finding("ok", subject, f"Cal.com answers (signed in as {who or 'unknown user'})"))
        for service in business.services:
            item = f"{subject} service {service.slug}"
            assert service.calcom_event_type_id is not None
            try:
                info = await calendar.event_type(service.calcom_event_type_id, refresh=True)
            except NotFound:
                out.append(
                    Finding(
                        "fail",
                        item,
                        f"event type {service.calcom_event_type_id} does not exist for this key: "
                        "fix calcom_event_type_id in the businesses file",
                    )
                )
                continue
            except CalendarError as exc:
                out.append(Finding("fail", item, f"could not read event type {service.calcom_event_type_id}: {exc}"))
                continue
            out.append(Finding("ok", item, f"event type {info.id} ({info.length} min)"))
            if info.requires_email:
                consequence = (
                    f"callers without one are booked as <number>@{business.placeholder_email_domain}"
                    if business.email_fallback == "placeholder"
                    else "callers without one cannot book (email_fallback = refuse)"
                )
                out.append(
                    Finding(
                        "warn" if business.email_fallback == "placeholder" else "fail",
                        item,
                        f"event type {info.id} requires an email; {consequence}. Fix: in Cal.com open the event "
                        "type > Advanced > Booking questions and make the email question optional (or hidden)",
                    )
                )
    return out
