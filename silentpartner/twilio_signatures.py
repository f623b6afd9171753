"""X-Twilio-Signature on every Twilio webhook (voice, call status, SMS, SMS status).

Twilio signs the URL it requested: `settings.public_url` + the path (+ the query exactly as sent), and
every form field. The URL is rebuilt from the configured public base, never from what a proxy hands us.

Fail closed: without TWILIO_AUTH_TOKEN there is nothing to check a signature against, so every request is
refused, unless TWILIO_ALLOW_UNSIGNED=true, which the settings only allow with a loopback PUBLIC_URL.
Where a request comes from proves nothing: behind a reverse proxy every request arrives from loopback,
and X-Forwarded-For is whatever the sender wrote.

Twilio posts `application/x-www-form-urlencoded` text fields only. Anything else (a multipart body, a file
part) is refused before a signature is computed over it.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from silentpartner.settings import Settings

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def signed_url(settings: Settings, request: Request) -> str:
    url = settings.public_url + request.url.path
    query = request.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return url


def is_twilio_form(request: Request, form: FormData) -> bool:
    """Shaped like a Twilio webhook: form-encoded, every value text."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == FORM_CONTENT_TYPE and all(isinstance(value, str) for _, value in form.multi_items())


def request_is_from_twilio(settings: Settings, request: Request, form: FormData) -> bool:
    if not is_twilio_form(request, form):
        return False
    mode = settings.twilio_signing
    if mode == "unsigned-allowed":
        return True
    if mode == "refused":
        return False
    token = settings.secret("twilio_auth_token")
    signature = request.headers.get("x-twilio-signature", "")
    if not token or not signature:
        return False
    try:
        return RequestValidator(token).validate(signed_url(settings, request), form, signature)
    except (TypeError, ValueError, UnicodeError):
        return False  # a signature or value the validator cannot even read is not Twilio's
