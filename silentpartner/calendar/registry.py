"""Which calendar a business uses, opened from its `calendar` setting, and the component that puts
one (behind the slot cache) in `runtime.calendars[slug]` for every business, and the cache itself in
`runtime.slot_cache`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from silentpartner.business import Business
from silentpartner.calendar.cache import CachedCalendar, SlotCache
from silentpartner.calendar.local import LocalCalendar
from silentpartner.calendar.port import CalendarPort
from silentpartner.clock import Clock
from silentpartner.settings import Settings
from silentpartner.store.changes import SLOTS, CatchUp, Change
from silentpartner.store.db import Database

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime


@dataclass
class CalendarParts:
    """What a backend is built from, for callers without a whole Runtime (the CLI, tests)."""

    settings: Settings
    db: Database
    http: httpx.AsyncClient | None
    clock: Clock


def open_calendar(business: Business, runtime_or_parts: Runtime | CalendarParts | Any) -> CalendarPort:
    """The backend `business.calendar` names, built from a Runtime or CalendarParts (same attributes)."""
    parts = runtime_or_parts
    if business.calendar == "local":
        return LocalCalendar(business, parts.db, parts.clock)
    if business.calendar == "calcom":
        calcom = importlib.import_module("silentpartner.calendar.calcom")
        if parts.http is None:
            raise ValueError(f"business {business.slug}: a Cal.com calendar needs an HTTP client")
        return calcom.CalcomCalendar.from_settings(business, parts.settings, parts.http, parts.db, parts.clock)
    raise ValueError(f"business {business.slug}: unknown calendar backend {business.calendar!r}")


class CalendarComponent:
    """Opens every business's calendar at start (behind one shared SlotCache), closes them at stop.

    Others reach the cache as `runtime.slot_cache` (webhooks call `invalidate`, calls call `warm_soon`).
    The cache is wired to the store's change bus: what it invalidates is told to the other instances sharing
    the database, and what they tell makes it forget (see cache.py)."""

    def __init__(self, *, cache_days: int = 7, cache_ttl: timedelta = timedelta(seconds=60)) -> None:
        self.cache_days = cache_days
        self.cache_ttl = cache_ttl
        self.cache: SlotCache | None = None
        self._opened: list[CalendarPort] = []
        self._unwatch: Callable[[], None] | None = None

    async def start(self, runtime: Runtime) -> None:
        db = runtime.db

        def announce(slug: str) -> None:
            db.tell_other_instances([Change(SLOTS, slug, "")])

        self.cache = cache = SlotCache(runtime.clock, days=self.cache_days, ttl=self.cache_ttl, announce=announce)

        def heard(change: Change | CatchUp) -> None:
            # The hub hands on only what other instances sent (its own echo is dropped by origin).
            if isinstance(change, CatchUp):
                cache.forget_all()  # the LISTEN was lost a while: whatever was said then is gone
            elif change.kind == SLOTS:
                cache.forget(change.business)

        self._unwatch = db.changes.watch(heard)
        runtime.slot_cache = self.cache
        for business in runtime.businesses:
            calendar = CachedCalendar(open_calendar(business, runtime), self.cache)
            self._opened.append(calendar)
            runtime.calendars[business.slug] = calendar

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self.cache is not None:
            await self.cache.close()
        while self._opened:
            await self._opened.pop().close()
