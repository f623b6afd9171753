"""One-time media tokens, on SQLite and PostgreSQL: hashed at rest, single use, tied to a call, short-lived."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from silentpartner.store import migrate
from silentpartner.store.db import Database
from silentpartner.store.models import MediaToken
from silentpartner.voice import tokens
from tests.conftest import PINNED_NOW

CALL = "CA" + "c" * 32
OTHER = "CA" + "d" * 32


async def test_a_token_is_good_once_for_its_call_and_only_while_fresh(db_url: str) -> None:
    db = Database(db_url)
    await migrate.upgrade(db)
    try:
        token = await tokens.mint(db, CALL, now=PINNED_NOW)
        async with db.session() as session:
            stored = list(await session.scalars(select(MediaToken)))
        assert [row.token_hash for row in stored] == [tokens.hash_token(token)]
        assert token not in stored[0].token_hash

        assert not await tokens.redeem(db, OTHER, token, now=PINNED_NOW)  # minted for another call
        assert not await tokens.redeem(db, CALL, token + "x", now=PINNED_NOW)
        assert await tokens.redeem(db, CALL, token, now=PINNED_NOW)
        assert not await tokens.redeem(db, CALL, token, now=PINNED_NOW)  # used

        late = await tokens.mint(db, CALL, now=PINNED_NOW)
        expired_at = PINNED_NOW + tokens.TOKEN_LIFETIME + timedelta(seconds=1)
        assert not await tokens.redeem(db, CALL, late, now=expired_at)
    finally:
        await db.close()


async def test_two_sockets_racing_with_one_token_cannot_both_win(db_url: str) -> None:
    db = Database(db_url)
    await migrate.upgrade(db)
    try:
        token = await tokens.mint(db, CALL, now=PINNED_NOW)
        results = await asyncio.gather(*(tokens.redeem(db, CALL, token, now=PINNED_NOW) for _ in range(5)))
        assert sorted(results) == [False, False, False, False, True]
    finally:
        await db.close()
