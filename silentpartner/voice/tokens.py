"""One-time media tokens: minted by the signed voice webhook, presented once by the media websocket.

Only a SHA-256 of the token is stored, next to the call sid it was minted for, so the websocket may land
on any instance that shares the database. A token is good for a short while and for one use: redeeming
it is one conditional UPDATE, so two sockets racing with the same token cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from silentpartner.store.db import Database
from silentpartner.store.models import MediaToken

# Twilio opens the stream right after it receives the TwiML; a minute covers slow networks.
TOKEN_LIFETIME = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def mint(db: Database, call_sid: str, *, now: datetime, lifetime: timedelta = TOKEN_LIFETIME) -> str:
    token = secrets.token_urlsafe(32)
    async with db.session() as session:
        # Old tokens are only clutter once expired; sweep them while we are writing anyway.
        await session.execute(delete(MediaToken).where(MediaToken.expires_at < now - timedelta(hours=1)))
        session.add(
            MediaToken(token_hash=hash_token(token), call_sid=call_sid, created_at=now, expires_at=now + lifetime)
        )
    return token


async def redeem(db: Database, call_sid: str, token: str, *, now: datetime) -> bool:
    """True exactly once for an unexpired token minted for `call_sid`; False for anything else."""
    if not token or not call_sid or len(token) > 200:
        return False
    digest = hash_token(token)
    async with db.session() as session:
        result = await session.execute(
            update(MediaToken)
            .where(
                MediaToken.token_hash == digest,
                MediaToken.call_sid == call_sid,
                MediaToken.used_at.is_(None),
                MediaToken.expires_at >= now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1
