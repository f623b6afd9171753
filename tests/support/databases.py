"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432 when reachable."""

from __future__ import annotations

import asyncio
import os
import uuid

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("TEST_PG_DB", "test")

_reachable: bool | None = None
_reason = ""


async def _admin_connect():
    import asyncpg

    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=3)


def postgres_unavailable_reason() -> str | None:
    """None when PostgreSQL can be used, else why not (shown as the skip reason)."""
    global _reachable, _reason
    if _reachable is None:
        try:
            import asyncpg  # noqa: F401
        except ImportError:
            _reachable, _reason = False, "asyncpg is not installed (pip install -e '.[test]')"
            return _reason

        async def probe() -> None:
            conn = await _admin_connect()
            await conn.close()

        try:
            asyncio.run(probe())
            _reachable = True
        except Exception as exc:
            _reachable = False
            _reason = f"no PostgreSQL at {PG_HOST}:{PG_PORT} ({type(exc).__name__}: {exc})"
    return None if _reachable else _reason


def create_postgres_database() -> str:
    name = f"sp_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await _admin_connect()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return name


def drop_postgres_database(name: str) -> None:
    async def drop() -> None:
        conn = await _admin_connect()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def postgres_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
