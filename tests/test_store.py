from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from silentpartner.store import BookingRecord, Database, migrate
from silentpartner.store.models import Base


async def test_migrations_apply_and_are_current(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert not await migrate.is_current(db)
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        assert await migrate.is_current(db)
        await migrate.upgrade(db)  # idempotent
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        assert {"calls", "bookings", "messages", "webhook_events", "opt_outs", "jobs"} <= tables
    finally:
        await db.close()


async def test_migrations_match_models(db_url: str) -> None:
    """A model changed without a migration (or the reverse) fails here."""
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
        assert diff == []
    finally:
        await db.close()


async def test_times_round_trip_as_aware_utc(db_url: str) -> None:
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        start = datetime(2026, 3, 8, 10, 30, tzinfo=timezone(timedelta(hours=-7)))
        now = datetime(2026, 3, 1, tzinfo=UTC)
        async with db.session() as session:
            session.add(
                BookingRecord(
                    uid="b1",
                    business="mikes-plumbing",
                    backend="local",
                    service="estimate",
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    created_at=now,
                    updated_at=now,
                )
            )
        async with db.session() as session:
            row = (await session.execute(select(BookingRecord))).scalar_one()
        assert row.start_at == start and row.start_at.tzinfo is not None
        assert row.start_at.utcoffset() == timedelta(0)
        with pytest.raises(Exception, match="naive datetime"):
            async with db.session() as session:
                session.add(
                    BookingRecord(
                        uid="b2",
                        business="x",
                        backend="local",
                        service="s",
                        start_at=datetime(2026, 1, 1),
                        end_at=datetime(2026, 1, 1),
                        created_at=now,
                        updated_at=now,
                    )
                )
    finally:
        await db.close()


async def test_sqlite_uses_wal(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
    finally:
        await db.close()
