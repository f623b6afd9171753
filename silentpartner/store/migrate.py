"""Alembic migrations, run from code: at app start, by `silentpartner db upgrade`, and by tests.

Several instances may start together on one PostgreSQL database (a deploy, `docker compose up --scale app=3`).
Each migrates under one transaction-level advisory lock: the first runs the migrations while the others wait
on the lock, then find the database at head and have nothing to do. Without it they would race to create the
same tables and all but one would fail to start. (PostgreSQL DDL is transactional, so the waiters see the
finished schema or none of it.) SQLite needs no lock: the migrating transaction holds the file's write lock.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from silentpartner.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
# pg_advisory_xact_lock's key for "migrating": any constant every instance agrees on (ASCII "SPmigrat").
MIGRATION_LOCK = 0x53506D6967726174


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads; merge them"
    return heads[0]


async def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations; a database that cannot be reached is `DatabaseUnavailable`, in one line."""
    config = alembic_config(db.url)

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    await db.check()
    if revision == "head" and await current_revision(db) == head_revision():
        return  # already there: skip Alembic's machinery (a process start, or every simulate run)
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            # Held until this transaction ends; another instance migrating makes this wait, then finds it done.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_run)


def known_revisions() -> set[str]:
    """Every revision this version's migrations define."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {revision.revision for revision in script.walk_revisions()}


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None before the first migration). Read from Alembic's table
    directly: `/readyz` asks on every probe, and Alembic's migration context logs two lines each time."""

    def _current(connection: Connection) -> str | None:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def is_current(db: Database) -> bool:
    try:
        return await current_revision(db) == head_revision()
    except Exception:
        return False
