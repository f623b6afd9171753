"""Which calls, bookings and messages changed: told to whoever listens in this process, and (on PostgreSQL)
to every instance sharing the database, so an owner's open dashboard shows a call or a booking as it happens
wherever it happened.

The store notices the changes itself, whoever writes them: every session of a `Database` notes the call,
booking and message rows it flushes, and when the transaction commits:

- the changes go to this process's subscribers (`ChangeHub`) at once, and
- on PostgreSQL they are also sent with `pg_notify` inside that same transaction, so they reach the other
  instances only if it commits. Each instance LISTENs (`changes_listener.py`) and hands on what other
  instances sent (its own notifications come back to it too, and are dropped by their origin).

A change says only what changed (kind, business, key); readers fetch the row, with their own access checks, so
a change announced that a savepoint then undid costs a reader one needless read, nothing more. Changes made with
bulk `update()` statements are not seen; the ones the dashboard shows go through the ORM.

One kind is announced by hand rather than noticed in a session: "slots", a business's free times changed (a
booking made, moved or cancelled here or on Cal.com, time off). The slot cache of the instance that saw it
drops its own entries, then `Database.tell_other_instances` sends it (PostgreSQL only: on SQLite there is no
other instance) and every other instance's slot cache, a `watch`er of its hub, drops the business's slots.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from silentpartner.store.models import BookingRecord, CallRecord, MessageRecord

log = logging.getLogger(__name__)

CHANNEL = "silentpartner_changes"  # the PostgreSQL notification channel
SUBSCRIBER_BACKLOG = 256  # changes a slow subscriber may fall behind by before it is told to catch up
MAX_PER_NOTIFY = 40  # changes per pg_notify payload (PostgreSQL caps a payload at 8000 bytes)

Kind = Literal["call", "booking", "message", "slots"]
SLOTS: Kind = "slots"


@dataclass(frozen=True)
class Change:
    kind: Kind
    business: str
    key: str  # a call's sid, a booking's uid, a message's id ("" for slots)
    id: int | None = None  # the row's id (calls: what the dashboard links by)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _change_of(row: object) -> Change | None:
    if isinstance(row, CallRecord):
        return Change("call", row.business, row.sid, row.id)
    if isinstance(row, BookingRecord):
        return Change("booking", row.business, row.uid, row.id)
    if isinstance(row, MessageRecord):
        return Change("message", row.business, str(row.id), row.id)
    return None


class CatchUp:
    """Changes may have been missed (a subscriber fell behind, or the LISTEN connection was lost): re-read."""


CATCH_UP = CatchUp()


class Subscription:
    """One listener's queue of changes."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Change | CatchUp | None] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self._overflowed = False
        self.closed = False

    async def next(self) -> Change | CatchUp | None:
        """The next change, `CATCH_UP` when some were lost, or None once the hub has closed."""
        item = await self.queue.get()
        if not self._overflowed:
            return item
        self._overflowed = False
        closed = item is None
        while not self.queue.empty():
            closed = closed or self.queue.get_nowait() is None
        return None if closed or self.closed else CATCH_UP

    def _offer(self, item: Change | CatchUp | None) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self._overflowed = True  # its next() drains the queue and says CATCH_UP


class ChangeHub:
    """In-process fan-out. Published from the event loop's thread (where sessions commit)."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex  # marks this process's notifications, so it skips their echo
        self._subscribers: set[Subscription] = set()
        self._watchers: list[Callable[[Change | CatchUp], None]] = []

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def watch(self, callback: Callable[[Change | CatchUp], None]) -> Callable[[], None]:
        """Call `callback(change)` for every change, at once and in order, before any subscriber hears of it
        (the slot cache must have dropped a business's slots before anything reacts to the news), and
        `callback(CATCH_UP)` when changes may have been missed. Returns the function that stops the watching."""
        self._watchers.append(callback)

        def unwatch() -> None:
            if callback in self._watchers:
                self._watchers.remove(callback)

        return unwatch

    def publish(self, changes: list[Change]) -> None:
        for change in changes:
            self._tell_watchers(change)
            for subscription in list(self._subscribers):
                subscription._offer(change)

    def _tell_watchers(self, item: Change | CatchUp) -> None:
        for watcher in list(self._watchers):
            try:
                watcher(item)
            except Exception:  # one broken watcher must not keep the news from the others
                log.exception("changes.watcher_failed")

    def receive_notification(self, payload: str) -> None:
        """A pg_notify payload from some instance: hand on the changes, unless this process sent them."""
        try:
            message = json.loads(payload)
            if message.get("origin") == self.origin:
                return
            changes = [Change(**item) for item in message["changes"]]
        except (ValueError, TypeError, KeyError):
            log.warning("changes.bad_notification")
            return
        self.publish(changes)

    def publish_catch_up(self) -> None:
        self._tell_watchers(CATCH_UP)
        for subscription in list(self._subscribers):
            subscription._offer(CATCH_UP)

    def close(self) -> None:
        """Wake every subscriber with None: no more changes will come."""
        for subscription in list(self._subscribers):
            subscription.closed = True
            subscription._offer(None)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


def notify_payloads(origin: str, changes: list[Change]) -> list[str]:
    """The pg_notify payloads for `changes`, each well under PostgreSQL's 8000-byte cap."""
    payloads = []
    for start in range(0, len(changes), MAX_PER_NOTIFY):
        batch = [c.as_dict() for c in changes[start : start + MAX_PER_NOTIFY]]
        payloads.append(json.dumps({"origin": origin, "changes": batch}, separators=(",", ":")))
    return payloads


_PENDING = "silentpartner.changes"


def track_changes(session_class: type[Session], hub: ChangeHub, *, postgres: bool) -> None:
    """Note the call, booking and message rows each session of `session_class` flushes; tell `hub` (and, on
    PostgreSQL, every instance) when its transaction commits, and forget them when it rolls back."""

    @event.listens_for(session_class, "after_flush")
    def _noted(session: Session, _context: Any) -> None:
        pending: dict[tuple[str, str], Change] = session.info.setdefault(_PENDING, {})
        for row in (*session.new, *session.dirty):
            change = _change_of(row)
            if change is not None:
                pending[(change.kind, change.key)] = change

    if postgres:

        @event.listens_for(session_class, "before_commit")
        def _notify(session: Session) -> None:
            session.flush()  # the commit's own flush comes after this event: take its rows in now
            pending = session.info.get(_PENDING)
            if pending:
                for payload in notify_payloads(hub.origin, list(pending.values())):
                    session.execute(
                        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
                    )

    @event.listens_for(session_class, "after_commit")
    def _committed(session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        if pending:
            hub.publish(list(pending.values()))

    @event.listens_for(session_class, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)
