"""What a running process holds: settings, businesses, database, shared HTTP client, clock, and the
parts other packages attach (calendars and their slot cache, the speech engine, Twilio call control,
call timing, the SMS sender), each in a typed field of its own.

Components are started in order by the app's lifespan (and by the CLI commands that need them) and
stopped in reverse. A component is anything with `async start(runtime)` and `async stop()`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from silentpartner.business import Businesses
from silentpartner.clock import Clock, SystemClock
from silentpartner.settings import Settings
from silentpartner.store.db import Database

if TYPE_CHECKING:  # the types of what components attach; none of these modules imports this one
    from silentpartner.calendar.cache import SlotCache
    from silentpartner.calendar.port import CalendarPort
    from silentpartner.dashboard.owners import OwnerKeys
    from silentpartner.messaging.sms import SmsSender
    from silentpartner.voice.call import CallTiming
    from silentpartner.voice.control import TwilioCallControl
    from silentpartner.voice.engines import SpeechEngine
    from silentpartner.voice.realtime.connection import RealtimeSessions

log = logging.getLogger(__name__)


def new_instance_id() -> str:
    """host:pid:random, at most 64 characters (the width of the column that keeps it)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Component(Protocol):
    async def start(self, runtime: Runtime) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class Runtime:
    settings: Settings
    businesses: Businesses
    db: Database
    http: httpx.AsyncClient
    clock: Clock = field(default_factory=SystemClock)
    # This process among the instances sharing the database (it marks the calls it holds).
    instance_id: str = field(default_factory=new_instance_id)
    # Filled by components at start (or by a test, or a deployment's own component).
    calendars: dict[str, CalendarPort] = field(default_factory=dict)  # by business slug, behind the slot cache
    slot_cache: SlotCache | None = None  # the calendar component's
    speech: SpeechEngine | None = None  # a test engine; None: the process's offline engine
    realtime: RealtimeSessions | None = None  # the Realtime engine's sessions, when some business uses it
    call_control: TwilioCallControl | None = None  # the voice component's (made on first use without it)
    call_timing: CallTiming | None = None  # None: CallTiming's defaults
    sms: SmsSender | None = None  # made on first use (messaging.sms.sender_for), closed by the job worker
    owner_keys: OwnerKeys | None = None  # the dashboard's owner tokens (dashboard.access.owner_keys)
    # Only "chat_brain_factory" (brains.py).
    services: dict[str, Any] = field(default_factory=dict)
    components: list[Component] = field(default_factory=list)

    async def start_components(self, components: list[Component]) -> None:
        for component in components:
            await component.start(self)
            self.components.append(component)

    async def stop_components(self) -> None:
        while self.components:
            component = self.components.pop()
            try:
                await component.stop()
            except Exception:  # a failing stop must not keep the others from stopping
                log.exception("component.stop_failed")

    async def close(self) -> None:
        await self.stop_components()
        await self.http.aclose()
        await self.db.close()


def new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=5.0), limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
    )
