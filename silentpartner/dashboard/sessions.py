"""The owner's session: a signed cookie, and the CSRF token that goes with it.

The cookie is `slug.expires.nonce.signature`, the signature an HMAC-SHA256 with a key derived from the
business's owner token (`OwnerKey.session_key`): nothing is kept on the server, any instance can check it,
it lapses after `SESSION_LIFETIME`, and changing the owner token ends every session. It is `__Host-` prefixed,
Secure, HttpOnly and SameSite=Lax, so no script reads it and no other site's form carries it.

Every form that changes something carries `csrf_token(session)`, an HMAC of the session's nonce; the login
form, which comes before any session, carries a random value also set in a short-lived cookie (double submit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from silentpartner.business import Business
from silentpartner.dashboard.owners import OwnerKey, OwnerKeys

SESSION_COOKIE = "__Host-sp_session"
LOGIN_COOKIE = "__Host-sp_login"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(minutes=30)
_COOKIE = re.compile(r"^([a-z0-9][a-z0-9-]{0,63})\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class OwnerSession:
    business: Business
    nonce: str
    expires_at: datetime
    csrf: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(key: OwnerKey, message: str) -> str:
    return _b64(hmac.new(key.session_key, message.encode(), hashlib.sha256).digest())


def csrf_for(key: OwnerKey, nonce: str) -> str:
    return _sign(key, f"csrf:{nonce}")


def issue(key: OwnerKey, now: datetime) -> tuple[str, OwnerSession]:
    """A new session for `key`'s business: (cookie value, the session)."""
    nonce = secrets.token_urlsafe(18)
    expires = int((now + SESSION_LIFETIME).timestamp())
    body = f"{key.business.slug}.{expires}.{nonce}"
    session = OwnerSession(key.business, nonce, datetime.fromtimestamp(expires, UTC), csrf_for(key, nonce))
    return f"{body}.{_sign(key, body)}", session


def read(keys: OwnerKeys, cookie: str | None, now: datetime) -> OwnerSession | None:
    """The session this cookie carries, or None (missing, malformed, forged, expired, or its business locked)."""
    if not cookie or len(cookie) > 256:
        return None
    match = _COOKIE.match(cookie)
    if match is None:
        return None
    slug, expires, nonce, signature = match.groups()
    key = keys.for_business(slug)
    if key is None:
        return None
    if not hmac.compare_digest(signature, _sign(key, f"{slug}.{expires}.{nonce}")):
        return None
    expires_at = datetime.fromtimestamp(int(expires), UTC)
    if expires_at <= now:
        return None
    return OwnerSession(key.business, nonce, expires_at, csrf_for(key, nonce))


def csrf_matches(session: OwnerSession, offered: str | None) -> bool:
    return bool(offered) and hmac.compare_digest(session.csrf.encode(), str(offered).encode())


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_nonce_matches(cookie: str | None, offered: str | None) -> bool:
    if not cookie or not offered or len(cookie) > 64:
        return False
    return hmac.compare_digest(cookie.encode(), str(offered).encode())
