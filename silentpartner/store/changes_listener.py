"""On PostgreSQL: LISTEN for the changes other instances commit (`changes.py` sends them with pg_notify) and
hand them to this process's `ChangeHub`.

One dedicated asyncpg connection, outside SQLAlchemy's pool (a pooled connection would be handed to other work
and lose its LISTEN). When it drops, it is opened again after a pause, and subscribers are told to catch up
(a notification sent while nobody listened is gone).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from silentpartner.logs import log_event
from silentpartner.store.changes import CHANNEL, ChangeHub
from silentpartner.store.db import POSTGRES_CONNECT_TIMEOUT_S, Database

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_AFTER_S = (1.0, 2.0, 5.0, 10.0)  # pauses before reconnecting, the last one repeated


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://user@host/db` as the plain libpq URL asyncpg takes."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    def __init__(self, db: Database) -> None:
        if db.is_sqlite:
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL; on SQLite the hub is fed in process")
        self.db = db
        self.hub: ChangeHub = db.changes
        self.listening = asyncio.Event()  # set while the LISTEN is in place
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="changes.listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        import asyncpg

        failures = 0
        while True:
            lost = asyncio.Event()
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    asyncpg_dsn(self.db.url), timeout=POSTGRES_CONNECT_TIMEOUT_S, command_timeout=None
                )
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notification)
                self.listening.set()
                if failures:
                    log_event(log, "changes.listening_again")
                    self.hub.publish_catch_up()
                failures = 0
                await lost.wait()
                log_event(log, "changes.listen_lost", logging.WARNING)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if failures == 0:
                    log_event(log, "changes.listen_failed", logging.WARNING, error=f"{type(exc).__name__}: {exc}")
            finally:
                self.listening.clear()
                if connection is not None and not connection.is_closed():
                    await asyncio.shield(connection.close(timeout=5))
            await asyncio.sleep(RETRY_AFTER_S[min(failures, len(RETRY_AFTER_S) - 1)])
            failures += 1

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.hub.receive_notification(payload)


class ChangeListenerComponent:
    """The app component: on PostgreSQL, LISTEN for as long as the app runs (the dashboard's live streams and
    every slot cache hear other instances' changes through it); on SQLite, nothing to do."""

    def __init__(self) -> None:
        self.listener: ChangeListener | None = None

    async def start(self, runtime: Runtime) -> None:
        if not runtime.db.is_sqlite:
            self.listener = ChangeListener(runtime.db)
            self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
