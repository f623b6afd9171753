"""Migration 0006 (the speech engine and Realtime usage on calls) goes up from 0005 and back down, on SQLite and
PostgreSQL, and a call written before it reads as "cost not known"."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from silentpartner.store import migrate
from silentpartner.store.db import Database

COLUMNS = {"speech_engine", "speech_model", "audio_tokens_in", "audio_tokens_out", "speech_cost_usd"}


async def _columns(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns("calls")})


async def test_0006_up_and_down(db_url: str) -> None:
    db = Database(db_url)
    try:
        await migrate.upgrade(db, "0005")
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO calls (sid, business, is_owner, channel, status, transcript, latencies_ms, "
                    "started_at, textback_queued) VALUES ('CAold', 'b', false, 'phone', 'completed', '[]', '[]', "
                    ":at, false)"
                ),
                {"at": datetime(2026, 11, 24, tzinfo=UTC).replace(tzinfo=None)},
            )
        assert not COLUMNS & await _columns(db)
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == "0006"
        assert COLUMNS <= await _columns(db)
        async with db.engine.connect() as conn:
            old = (await conn.execute(sa.text("SELECT speech_cost_usd, speech_engine FROM calls"))).one()
        assert tuple(old) == (None, None)  # an older call: no engine recorded, cost not known

        config = migrate.alembic_config(db.url)

        def down(connection) -> None:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")

        async with db.engine.begin() as conn:
            await conn.run_sync(down)
        assert not COLUMNS & await _columns(db)
    finally:
        await db.close()
