"""X-Twilio-Signature on every Twilio webhook (voice, call status, SMS, SMS status).

Twilio signs the URL it requested: `settings.public_url` + the path (+ the query exactly as sent), and
every form field. The URL is rebuilt from the configured public base, never from what a proxy hands us.

Without TWILIO_AUTH_TOKEN there is nothing to check a signature against. Then only loopback callers
(local tools and tests on the same machine) are accepted, so an unconfigured instance
exposed to the internet cannot be driven by forged webhooks.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from silentpartner.settings import Settings


def signed_url(settings: Settings, request: Request) -> str:
    url = settings.public_url + request.url.path
    query = request.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return url


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def request_is_from_twilio(settings: Settings, request: Request, form: FormData) -> bool:
    token = settings.secret("twilio_auth_token")
    if not token:
        return _is_loopback(request)
    signature = request.headers.get("x-twilio-signature", "")
    if not signature:
        return False
    return RequestValidator(token).validate(signed_url(settings, request), form, signature)
