"""The database handle: one async engine per process, SQLite (WAL) by default, PostgreSQL to scale out.

A URL that is not one, or a PostgreSQL URL without its driver installed, is refused here with
`DatabaseUnavailable` (one line saying what to do), before anything tries to connect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from silentpartner.logs import log_event
from silentpartner.store.changes import CHANNEL, Change, ChangeHub, notify_payloads, track_changes
from silentpartner.store.problems import DatabaseUnavailable, explain, first_line, sqlite_folder_problem
from silentpartner.store.urls import normalise_database_url, without_password

POSTGRES_CONNECT_TIMEOUT_S = 10  # asyncpg waits 60 s by default: too long to learn a host is wrong
TELLING_DRAIN_S = 5  # how long close() lets announcements still on their way go out

log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            url = normalise_database_url(url)
        except ValueError as exc:
            raise DatabaseUnavailable(f"database: {url!r} is not a database URL: {exc}") from None
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            # A generous busy timeout: writers queue instead of failing with "database is locked".
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT_S})
        try:
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except ModuleNotFoundError as exc:
            raise DatabaseUnavailable(
                f"database: the URL is PostgreSQL but its driver ({exc.name}) is not installed: "
                "pip install 'silentpartner[postgres]'"
            ) from None
        except ArgumentError as exc:
            raise DatabaseUnavailable(f"database: {without_password(url)} cannot be read: {exc}") from None
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # aiosqlite's default BEGIN is deferred; take the write lock up front so a
            # read-then-write transaction can't be overtaken between its read and its write.
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        # A session class of this database's own, so the change tracking below sees only its sessions.
        session_class: type[Session] = type("DatabaseSession", (Session,), {})
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=session_class)
        self.changes = ChangeHub()  # calls, bookings and messages as they change (see changes.py)
        track_changes(session_class, self.changes, postgres=not self.is_sqlite)
        self._telling: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def check(self) -> None:
        """Connect once; `DatabaseUnavailable` (one actionable line) when that fails."""
        problem = sqlite_folder_problem(self.url) if self.is_sqlite else None
        if problem is not None:
            raise DatabaseUnavailable(problem)
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(explain(exc, self.url) or f"database: {first_line(exc)}") from exc

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def tell_other_instances(self, changes: list[Change]) -> None:
        """Send `changes` to the other instances sharing this database, now, in a transaction of their own
        (for news that no transaction of ours carries: see changes.py). On SQLite there are none: a no-op.
        Must be called on the event loop; the sending runs in the background, and a failure is logged (the
        other instances' caches then catch up at their TTL, and every booking is re-checked anyway)."""
        if self.is_sqlite or not changes:
            return
        task = asyncio.get_running_loop().create_task(self._notify(changes), name="changes.tell")
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def _notify(self, changes: list[Change]) -> None:
        try:
            async with self.engine.begin() as conn:
                for payload in notify_payloads(self.changes.origin, changes):
                    await conn.execute(
                        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
                    )
        except Exception as exc:
            log_event(log, "changes.tell_failed", logging.WARNING, error=first_line(exc))

    async def close(self) -> None:
        if self._telling:  # what this instance still had to tell the others goes out before the pool closes
            await asyncio.wait(set(self._telling), timeout=TELLING_DRAIN_S)
        self.changes.close()
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite/aiosqlite: let SQLAlchemy, not the driver, issue BEGIN (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
