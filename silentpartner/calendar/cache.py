"""The slot cache: a caller must not wait on Cal.com for the first offer.

When a call starts, `warm(business)` prefetches the next days' free slots for every service of the
business from its calendar backend. `find_slots` is then answered from memory; an entry older than the
TTL is still served while a background task refreshes it. Our own bookings and Cal.com webhooks call
`invalidate(business)`, which drops the business's entries and fetches them again in the background.

Several instances each keep a cache of their own: `invalidate` also `announce`s the change (the calendar
component sends it over the store's change bus, PostgreSQL LISTEN/NOTIFY), and each other instance
`forget`s the business's slots. It does not fetch them again at once: N instances refetching every
service on every change would spend Cal.com's 120 requests a minute N times over; the next call there
warms the cache as it starts, and a lookup before then asks the backend.

The cache only ever narrows what is offered: holding and booking always go to the backend, which
re-checks the time (a slot the cache still shows but someone just took comes back as SlotUnavailable
with alternatives).
"""

from __future__ import annotations

import asyncio
import logging
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from silentpartner import metrics
from silentpartner.business import Business
from silentpartner.calendar.port import (
    Booking,
    BookingRequest,
    CalendarPort,
    Hold,
    ServiceInfo,
    Slot,
    SlotUnavailable,
)
from silentpartner.clock import Clock
from silentpartner.logs import log_event

log = logging.getLogger("silentpartner.calendar.cache")

Key = tuple[str, str, str | None]  # (business slug, service slug, team member or None)


@dataclass(frozen=True)
class _Entry:
    slots: list[Slot]
    starts: list[datetime]
    covers_until: datetime
    fetched_at: datetime


class SlotCache:
    """Free slots per business + service (+ team member), kept in memory for `days` ahead."""

    def __init__(
        self,
        clock: Clock,
        *,
        days: int = 7,
        ttl: timedelta = timedelta(seconds=60),
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.clock = clock
        self.announce = announce  # tells the other instances a business's slots changed (see the module doc)
        self.metrics = metrics.current()  # the app's, taken at start: news from other instances comes outside it
        self.days = days
        self.ttl = ttl
        self._ports: dict[str, CalendarPort] = {}
        self._entries: dict[Key, _Entry] = {}
        self._generation: dict[str, int] = {}
        self._inflight: dict[tuple[Key, int], asyncio.Task[_Entry]] = {}
        self._background: set[asyncio.Task[object]] = set()
        self.hits = 0
        self.misses = 0

    # -- wiring -----------------------------------------------------------------------------------

    def attach(self, port: CalendarPort) -> None:
        """Serve `port.business` from this backend (the backend itself, never a cached wrapper)."""
        self._ports[port.business.slug] = port
        self._generation.setdefault(port.business.slug, 0)

    def port(self, business: Business | str) -> CalendarPort:
        slug = business if isinstance(business, str) else business.slug
        try:
            return self._ports[slug]
        except KeyError:
            raise KeyError(f"no calendar attached to the slot cache for {slug!r}") from None

    # -- the public face --------------------------------------------------------------------------

    async def warm(self, business: Business | str) -> int:
        """Prefetch every service's slots for the business; returns how many services are cached.
        A backend failure is logged, not raised: the call goes on and asks the backend directly."""
        port = self.port(business)
        now = self.clock.now()
        keys: list[Key] = [(port.business.slug, s.slug, None) for s in port.business.services]
        # Entries still inside their TTL are left alone: a busy line must not cost a backend round trip per call.
        stale = [k for k in keys if (e := self._entries.get(k)) is None or now - e.fetched_at >= self.ttl]
        results = await asyncio.gather(*(self._fetch(key) for key in stale), return_exceptions=True)
        for key, result in zip(stale, results, strict=True):
            if isinstance(result, BaseException):
                log_event(
                    log, "slot_cache.warm_failed", logging.WARNING, business=key[0], service=key[1], error=repr(result)
                )
        return sum(1 for k in keys if k in self._entries)

    def warm_soon(self, business: Business | str) -> asyncio.Task[int]:
        """Start `warm` in the background (when a call starts) and return the task. Raises KeyError
        at once for a business with no calendar attached."""
        self.port(business)
        return self._spawn(self.warm(business))

    async def find_slots(
        self, business: Business | str, service: str, start: datetime, end: datetime, *, team_member: str | None = None
    ) -> list[Slot]:
        """Free slots starting in [start, end), from memory when the cache covers the window."""
        port = self.port(business)
        slug = port.business.slug
        try:
            notice = timedelta(minutes=port.business.service(service).min_notice_minutes)
        except KeyError:
            # Let the backend raise its own typed error for an unknown service.
            return await port.find_slots(service, start, end, team_member=team_member)
        key: Key = (slug, service, team_member)
        now = self.clock.now()
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            entry = await self._fetch(key)
        else:
            self.hits += 1
            if now - entry.fetched_at >= self.ttl:
                self._refresh_soon(key)
        if end > entry.covers_until:
            # Beyond what is prefetched: ask the backend for this one window.
            return await port.find_slots(service, start, end, team_member=team_member)
        lo = bisect_left(entry.starts, max(start, now + notice))
        hi = bisect_left(entry.starts, end)
        return entry.slots[lo:hi]

    def invalidate(self, business: Business | str) -> None:
        """Forget the business's slots (a booking changed), fetch them again in the background, and tell
        the other instances."""
        slug = business if isinstance(business, str) else business.slug
        dropped = self._drop(slug)
        self.metrics.slot_cache_invalidated("here")
        if slug in self._ports and dropped:
            for key in dropped:
                self._refresh_soon(key)
        if self.announce is not None:
            try:
                self.announce(slug)
            except Exception as exc:  # the change itself went through; other caches catch up at their TTL
                log_event(log, "slot_cache.announce_failed", logging.WARNING, business=slug, error=repr(exc))

    def forget(self, business: Business | str) -> None:
        """Another instance changed the business's slots: drop them here (fetched again when next needed)."""
        slug = business if isinstance(business, str) else business.slug
        self._drop(slug)
        self.metrics.slot_cache_invalidated("elsewhere")

    def forget_all(self) -> None:
        """News from other instances may have been missed (the LISTEN connection dropped): drop everything."""
        for slug in {key[0] for key in self._entries} | set(self._generation):
            self.forget(slug)

    def _drop(self, slug: str) -> list[Key]:
        self._generation[slug] = self._generation.get(slug, 0) + 1  # a fetch in flight now predates the change
        dropped = [key for key in self._entries if key[0] == slug]
        for key in dropped:
            del self._entries[key]
        return dropped

    async def drain(self) -> None:
        """Wait for background refreshes to finish (tests, and an orderly stop)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*list(self._background), return_exceptions=True)
        self._background.clear()

    # -- internals --------------------------------------------------------------------------------

    def _window(self, port: CalendarPort, now: datetime) -> tuple[datetime, datetime]:
        tz = port.business.tz
        last_day = now.astimezone(tz).date() + timedelta(days=self.days)
        return now, datetime.combine(last_day, time(0), tzinfo=tz)

    def _fetch(self, key: Key) -> asyncio.Task[_Entry]:
        """One fetch per key and generation at a time; concurrent askers share it."""
        generation = self._generation.get(key[0], 0)
        task = self._inflight.get((key, generation))
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load(key, generation))
            self._inflight[(key, generation)] = task
            task.add_done_callback(lambda _t: self._inflight.pop((key, generation), None))
        return task

    async def _load(self, key: Key, generation: int) -> _Entry:
        slug, service, member = key
        port = self._ports[slug]
        now = self.clock.now()
        start, end = self._window(port, now)
        slots = await port.find_slots(service, start, end, team_member=member)
        slots = sorted(slots, key=lambda s: s.start)
        entry = _Entry(slots=slots, starts=[s.start for s in slots], covers_until=end, fetched_at=now)
        # A booking changed while we were fetching: this answer may predate it, so do not keep it.
        if self._generation.get(slug, 0) == generation:
            self._entries[key] = entry
        return entry

    def _refresh_soon(self, key: Key) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): the next find_slots fetches instead
        self._spawn(self._refresh(key))

    async def _refresh(self, key: Key) -> None:
        try:
            await self._fetch(key)
        except Exception as exc:  # keep serving what we have; the backend re-checks every booking
            log_event(
                log, "slot_cache.refresh_failed", logging.WARNING, business=key[0], service=key[1], error=repr(exc)
            )

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


class CachedCalendar:
    """A CalendarPort whose `find_slots` reads the slot cache; everything else goes to the backend,
    and whatever changes a booking invalidates the business's cached slots."""

    def __init__(self, port: CalendarPort, cache: SlotCache) -> None:
        self.port = port
        self.cache = cache
        self.business = port.business
        cache.attach(port)

    async def list_services(self) -> list[ServiceInfo]:
        return await self.port.list_services()

    async def find_slots(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        team_member: str | None = None,
        reschedule_uid: str | None = None,
    ) -> list[Slot]:
        if reschedule_uid is not None:
            # The booking being moved frees its own time, which the shared cache does not know.
            return await self.port.find_slots(
                service, start, end, team_member=team_member, reschedule_uid=reschedule_uid
            )
        return await self.cache.find_slots(self.business, service, start, end, team_member=team_member)

    async def hold(self, slot: Slot, *, holder: str | None = None) -> Hold:
        try:
            return await self.port.hold(slot, holder=holder)
        except SlotUnavailable:
            self.cache.invalidate(self.business)
            raise

    async def release(self, hold_id: str) -> None:
        await self.port.release(hold_id)

    async def book(self, request: BookingRequest) -> Booking:
        try:
            booking = await self.port.book(request)
            metrics.current().booked(self.business.slug, request.source)
            return booking
        finally:
            self.cache.invalidate(self.business)

    async def get_booking(self, uid: str) -> Booking:
        return await self.port.get_booking(uid)

    async def bookings_for_phone(self, phone: str, *, include_past: bool = False) -> list[Booking]:
        return await self.port.bookings_for_phone(phone, include_past=include_past)

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        return await self.port.bookings_between(start, end)

    async def cancel(self, uid: str, reason: str) -> Booking:
        try:
            return await self.port.cancel(uid, reason)
        finally:
            self.cache.invalidate(self.business)

    async def reschedule(
        self, uid: str, new_start: datetime, *, reason: str | None = None, hold_id: str | None = None
    ) -> Booking:
        try:
            return await self.port.reschedule(uid, new_start, reason=reason, hold_id=hold_id)
        finally:
            self.cache.invalidate(self.business)

    async def block(self, start: datetime, end: datetime, *, team_member: str | None, reason: str) -> None:
        try:
            await self.port.block(start, end, team_member=team_member, reason=reason)
        finally:
            self.cache.invalidate(self.business)

    async def reopen(self, start: datetime, end: datetime, *, team_member: str | None) -> int:
        try:
            return await self.port.reopen(start, end, team_member=team_member)
        finally:
            self.cache.invalidate(self.business)

    async def close(self) -> None:
        await self.port.close()
