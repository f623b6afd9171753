"""Many instances starting at once on one empty PostgreSQL database: they migrate one at a time, under one
advisory lock, and every one of them comes up."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from silentpartner.app import create_app
from silentpartner.clock import FixedClock
from silentpartner.settings import Settings
from silentpartner.store import Database, migrate
from silentpartner.store.changes_listener import asyncpg_dsn
from tests.conftest import PINNED_NOW
from tests.support.servers import LiveServer

pytestmark = pytest.mark.postgres

_WAITING = """
    SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)
"""


async def test_instances_migrating_together_wait_for_one_another(postgres_db_url: str) -> None:
    name = postgres_db_url.rsplit("/", 1)[1]
    holder = await asyncpg.connect(asyncpg_dsn(postgres_db_url))
    databases = [Database(postgres_db_url) for _ in range(3)]
    try:
        # Someone is migrating (this test, holding the lock): every instance that starts now waits for it.
        await holder.execute("SELECT pg_advisory_lock($1)", migrate.MIGRATION_LOCK)
        upgrades = [asyncio.create_task(migrate.upgrade(db)) for db in databases]
        deadline = time.monotonic() + 15
        while await holder.fetchval(_WAITING, name) < len(databases):
            assert not any(u.done() for u in upgrades), [u.exception() for u in upgrades if u.done()]
            assert time.monotonic() < deadline, "the instances never queued on the migration lock"
            await asyncio.sleep(0.02)
        assert await migrate.current_revision(databases[0]) is None  # nobody went ahead

        await holder.execute("SELECT pg_advisory_unlock($1)", migrate.MIGRATION_LOCK)
        await asyncio.wait_for(asyncio.gather(*upgrades), timeout=60)
        for db in databases:
            assert await migrate.current_revision(db) == migrate.head_revision()
        async with databases[0].engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 1
    finally:
        await holder.close()
        for db in databases:
            await db.close()


async def test_two_apps_started_at_once_on_an_empty_database_both_come_up(postgres_db_url: str) -> None:
    def server() -> LiveServer:
        settings = Settings(database_url=postgres_db_url, _env_file=None)  # type: ignore[call-arg]
        components: Any = list  # no components: what is under test is the lifespan's migration
        return LiveServer(create_app(settings, clock=FixedClock(PINNED_NOW), components=components))

    servers = [server(), server()]
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
        async with httpx.AsyncClient(timeout=15) as http:
            for s in servers:
                ready = await http.get(s.url + "/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json() == {"status": "ready", "database": True, "migrations": True}
    finally:
        for s in servers:
            if s.server.started:
                s.stop()
