"""The dashboard's part of a running process: the owner tokens, read (and any business that cannot be logged
into reported, one line each) at start. (Other instances' changes reach its live streams through the store's
`ChangeListenerComponent`.)"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from silentpartner.dashboard.access import owner_keys
from silentpartner.logs import log_event

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)


class DashboardComponent:
    async def start(self, runtime: Runtime) -> None:
        keys = owner_keys(runtime)
        keys.log_locked()
        log_event(log, "dashboard.ready", businesses=sorted(keys.keys))

    async def stop(self) -> None:
        pass
