"""Sign a form POST the way Twilio does, so tests can play Twilio against our webhooks."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """`X-Twilio-Signature` for a form POST of `params` to `url` (the full public URL Twilio used)."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def signed_headers(auth_token: str, url: str, params: Mapping[str, str]) -> dict[str, str]:
    return {
        "X-Twilio-Signature": twilio_signature(auth_token, url, params),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
    }
