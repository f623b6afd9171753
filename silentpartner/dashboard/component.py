"""The dashboard's part of a running process: the owner tokens, read (and any business that cannot be logged
into reported, one line each) at start; and, on PostgreSQL, the LISTEN that brings other instances' changes to
this one's live streams."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from silentpartner.dashboard.access import owner_keys
from silentpartner.logs import log_event
from silentpartner.store.changes_listener import ChangeListener

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)


class DashboardComponent:
    def __init__(self) -> None:
        self.listener: ChangeListener | None = None

    async def start(self, runtime: Runtime) -> None:
        keys = owner_keys(runtime)
        keys.log_locked()
        log_event(log, "dashboard.ready", businesses=sorted(keys.keys))
        if not runtime.db.is_sqlite:
            self.listener = ChangeListener(runtime.db)
            self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
