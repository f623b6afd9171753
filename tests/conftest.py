"""Shared fixtures: database URLs for SQLite and PostgreSQL, settings, the demo business."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from silentpartner.business import Business, demo_businesses
from silentpartner.clock import FixedClock
from silentpartner.settings import Settings
from silentpartner.store import Database, migrate
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_unavailable_reason,
    postgres_url,
)

# Tuesday 24 November 2026, 10:00 in Portland: the suite's pinned "now".
PINNED_NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No developer .env or real keys leak into tests; each test runs in its own directory."""
    import os

    for name in list(os.environ):
        if name.startswith(
            (
                "CALCOM_",
                "TWILIO_",
                "OPENAI_",
                "BUSINESS",
                "DATABASE_URL",
                "PUBLIC_URL",
                "DASHBOARD_TOKEN",
                "METRICS_TOKEN",
                "RECORDING",
                "OWNER_MOBILE",
            )
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_db_url() -> Iterator[str]:
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    name = create_postgres_database()
    try:
        yield postgres_url(name)
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL (skipped, with the reason, when unreachable)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_db_url")


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def demo() -> Business:
    return demo_businesses().get("mikes-plumbing")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(PINNED_NOW)


async def _migrated(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite database."""
    async for database in _migrated(sqlite_url):
        yield database


@pytest.fixture
async def any_db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database, once on SQLite and once on PostgreSQL (skipped, with the reason, when unreachable)."""
    async for database in _migrated(db_url):
        yield database
