"""Who may open a business's dashboard: its owner token, from the environment variable `owner_token_env` names
in the businesses file, or DASHBOARD_TOKEN for a lone business that names none (the demo, the quick start).

A business without a usable token cannot be logged into at all (it fails closed) and is reported once, in
one line, when the app starts. Tokens are compared in constant time, against every business's token each
time, so neither the answer's timing nor its content says how close a guess came, or to which business.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from silentpartner.business import Business, Businesses
from silentpartner.logs import log_event
from silentpartner.settings import Settings

log = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 16  # a short token can be guessed; it is refused rather than trusted
_SESSION_KEY_LABEL = b"silentpartner dashboard session v1"


@dataclass(frozen=True)
class OwnerKey:
    business: Business
    token: str = field(repr=False)

    @property
    def session_key(self) -> bytes:
        """The key that signs this business's session cookies: a new token ends every session made with the old."""
        return hmac.new(self.token.encode(), _SESSION_KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class OwnerKeys:
    keys: dict[str, OwnerKey]  # by business slug: only the businesses that can be logged into
    locked: dict[str, str]  # by business slug: why it cannot be

    @classmethod
    def resolve(cls, businesses: Businesses, settings: Settings, environ: Mapping[str, str]) -> OwnerKeys:
        tokens: dict[str, str] = {}
        locked: dict[str, str] = {}
        for business in businesses:
            token, why = _token_of(business, businesses, settings, environ)
            if token is None:
                locked[business.slug] = why
            else:
                tokens[business.slug] = token
        for slug, token in list(tokens.items()):
            twins = sorted(other for other, value in tokens.items() if value == token and other != slug)
            if twins:
                locked[slug] = f"its owner token is the same as {', '.join(twins)}'s; give each business its own"
        keys = {slug: OwnerKey(businesses.get(slug), token) for slug, token in tokens.items() if slug not in locked}
        return cls(keys=keys, locked=locked)

    def log_locked(self) -> None:
        for slug, why in self.locked.items():
            log_event(log, "dashboard.owner_locked_out", logging.WARNING, business=slug, why=why)

    def by_token(self, token: str) -> OwnerKey | None:
        """The business whose owner token this is. Every token is compared, whatever matched first."""
        offered = token.encode()
        found = None
        for key in self.keys.values():
            if hmac.compare_digest(offered, key.token.encode()):
                found = key
        return found

    def for_business(self, slug: str) -> OwnerKey | None:
        return self.keys.get(slug)


def _token_of(
    business: Business, businesses: Businesses, settings: Settings, environ: Mapping[str, str]
) -> tuple[str | None, str]:
    if business.owner_token_env:
        name = business.owner_token_env
        token = environ.get(name, "").strip()
        if not token:
            return None, f"{name} is not set; set it to a long random value so the owner can log in"
    elif len(businesses) == 1:
        name = "DASHBOARD_TOKEN"
        token = (settings.secret("dashboard_token") or "").strip()
        if not token:
            return None, "DASHBOARD_TOKEN is not set; set it to a long random value to open the dashboard"
    else:
        return None, "no owner_token_env in the businesses file; name the variable that holds its owner's token"
    if len(token) < MIN_TOKEN_CHARS:
        return None, f"{name} is shorter than {MIN_TOKEN_CHARS} characters; use a long random value"
    return token, ""
