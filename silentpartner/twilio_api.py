"""The one place a Twilio REST client is made: async HTTP, and `TWILIO_API_URL` honoured (tests point
it at a local Twilio API server; the SDK fixes its host per domain, so the api domain's base_url is
overridden)."""

from __future__ import annotations

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from silentpartner.settings import Settings


def twilio_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token)


def make_twilio_client(settings: Settings) -> Client | None:
    """An async-capable client, or None when Twilio credentials are not configured."""
    if not twilio_configured(settings):
        return None
    client = Client(
        settings.twilio_account_sid,
        settings.secret("twilio_auth_token"),
        http_client=AsyncTwilioHttpClient(timeout=10),
    )
    if settings.twilio_api_url:
        client.api.base_url = settings.twilio_api_url
    return client
