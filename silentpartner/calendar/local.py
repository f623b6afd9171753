"""The embedded calendar: a real scheduler on the store, the default when a business has no Cal.com.

Bookings live in `BookingRecord` (backend="local"), holds in `CalendarHold`. Every write that could
double-book (hold, book, reschedule) runs in one transaction that first takes the business's
`CalendarLock` row: `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the Database opens every
transaction with BEGIN IMMEDIATE, which already serialises writers. Inside the lock the time is
re-checked against committed bookings and live holds, so of two callers racing for one slot exactly
one wins.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, cast, delete, func, literal, null, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from silentpartner.business import Business, Service
from silentpartner.calendar import availability
from silentpartner.calendar.availability import ZERO, Busy
from silentpartner.calendar.port import (
    Booking,
    BookingRequest,
    Hold,
    InvalidRequest,
    NotFound,
    OutsideBookingWindow,
    ServiceInfo,
    Slot,
    SlotUnavailable,
)
from silentpartner.clock import Clock
from silentpartner.phones import try_e164
from silentpartner.store.db import Database
from silentpartner.store.models import BookingRecord, CalendarHold, CalendarLock, TimeOff

BACKEND = "local"
ACTIVE = ("accepted", "pending", "awaiting_payment")
# How far around an asked time to look for alternatives when it is taken.
ALTERNATIVES_BEFORE = timedelta(hours=12)
ALTERNATIVES_AFTER = timedelta(days=3)
# No job is longer than a day (Service.duration_minutes is capped there), so nothing that started
# more than this before a window can reach into it.
LONGEST_JOB = timedelta(days=1, minutes=1)


def _new_uid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


class LocalCalendar:
    """`CalendarPort` on the store. One instance per business; safe to share across tasks."""

    def __init__(self, business: Business, db: Database, clock: Clock) -> None:
        self.business = business
        self.db = db
        self.clock = clock
        services = business.services
        self._pads = {
            s.slug: (timedelta(minutes=s.buffer_before_minutes), timedelta(minutes=s.buffer_after_minutes))
            for s in services
        }
        # Bookings this far either side of a window can still reach into it through buffers.
        self._reach = (
            max(timedelta(minutes=s.buffer_before_minutes + s.buffer_after_minutes) + s.duration for s in services)
            + timedelta(minutes=2 * business.travel_buffer_minutes)
            + timedelta(minutes=1)
        )

    # -- reading ----------------------------------------------------------------------------------

    async def list_services(self) -> list[ServiceInfo]:
        return [
            ServiceInfo(
                slug=s.slug,
                name=s.name,
                duration_minutes=s.duration_minutes,
                event_type_id=s.calcom_event_type_id,
                requires_email=False,
                deposit=s.deposit,
            )
            for s in self.business.services
        ]

    async def find_slots(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        team_member: str | None = None,
        reschedule_uid: str | None = None,
    ) -> list[Slot]:
        self._service(service)
        member = self._member_name(service, team_member)
        _aware(start, "start")
        _aware(end, "end")
        now = self.clock.now()
        async with self.db.session() as session:
            busy = await self._busy(session, start, end, now)
        slots = self._free(service, busy, now, start, end, member, None, [reschedule_uid] if reschedule_uid else [])
        return slots if member is not None else availability.distinct_starts(slots)

    async def get_booking(self, uid: str) -> Booking:
        async with self.db.session() as session:
            return _to_booking(await self._record(session, uid))

    async def bookings_for_phone(self, phone: str, *, include_past: bool = False) -> list[Booking]:
        number = try_e164(phone)
        if number is None:
            return []
        now = self.clock.now()
        query = select(BookingRecord).where(
            BookingRecord.business == self.business.slug,
            BookingRecord.backend == BACKEND,
            BookingRecord.attendee_phone == number,
        )
        if not include_past:
            query = query.where(BookingRecord.end_at > now, BookingRecord.status.in_(ACTIVE))
        async with self.db.session() as session:
            records = (await session.scalars(query)).all()
        upcoming = sorted((r for r in records if r.end_at > now), key=lambda r: r.start_at)
        past = sorted((r for r in records if r.end_at <= now), key=lambda r: r.start_at, reverse=True)
        return [_to_booking(r) for r in upcoming + past]

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        query = (
            select(BookingRecord)
            .where(
                BookingRecord.business == self.business.slug,
                BookingRecord.backend == BACKEND,
                BookingRecord.status.in_(ACTIVE),
                BookingRecord.start_at >= start,
                BookingRecord.start_at < end,
            )
            .order_by(BookingRecord.start_at, BookingRecord.team_member)
        )
        async with self.db.session() as session:
            return [_to_booking(r) for r in (await session.scalars(query)).all()]

    # -- holds ------------------------------------------------------------------------------------

    async def hold(self, slot: Slot, *, holder: str | None = None) -> Hold:
        service_slug, start, pinned = self._parse_slot(slot.id)
        service = self._service(service_slug)
        now = self.clock.now()
        self._check_window(service, start, now)
        async with self.db.session() as session:
            await self._lock(session)
            await session.execute(
                delete(CalendarHold).where(CalendarHold.business == self.business.slug, CalendarHold.expires_at <= now)
            )
            found, member = await self._pick_member(session, service, start, now, pinned, address=None, ignore=[])
            if not found:
                raise await self._unavailable(session, service, start, now, pinned)
            expires = now + timedelta(minutes=self.business.hold_minutes)
            record = CalendarHold(
                uid=_new_uid("hold"),
                business=self.business.slug,
                service=service.slug,
                team_member=member,
                start_at=start,
                end_at=start + service.duration,
                expires_at=expires,
                holder=holder,
                created_at=now,
            )
            session.add(record)
        held = availability.make_slot(service, start, member)
        return Hold(id=record.uid, slot=held, expires_at=expires)

    async def release(self, hold_id: str) -> None:
        async with self.db.session() as session:
            await session.execute(
                delete(CalendarHold).where(CalendarHold.business == self.business.slug, CalendarHold.uid == hold_id)
            )

    # -- writing ----------------------------------------------------------------------------------

    async def book(self, request: BookingRequest) -> Booking:
        service = self._service(request.service)
        pinned = self._member_name(service.slug, request.team_member)
        start = _aware(request.start, "start").astimezone(UTC)
        name = (request.name or "").strip()
        if not name:
            raise InvalidRequest("a booking needs the caller's name")
        phone = try_e164(request.phone)
        if phone is None:
            raise InvalidRequest(f"{request.phone!r} is not a phone number")
        now = self.clock.now()
        self._check_window(service, start, now)
        async with self.db.session() as session:
            await self._lock(session)
            ignore: list[str] = []
            if request.hold_id:
                hold = await self._live_hold(session, request.hold_id, now)
                if hold is not None and hold.service == service.slug and hold.start_at == start:
                    ignore.append(hold.uid)
                    pinned = pinned or hold.team_member
            found, member = await self._pick_member(session, service, start, now, pinned, request.address, ignore)
            if not found:
                raise await self._unavailable(session, service, start, now, pinned)
            record = BookingRecord(
                uid=_new_uid("loc"),
                business=self.business.slug,
                backend=BACKEND,
                service=service.slug,
                start_at=start,
                end_at=start + service.duration,
                team_member=member,
                attendee_name=name,
                attendee_phone=phone,
                attendee_email=request.email,
                address=request.address,
                notes=request.notes,
                status="accepted",
                source=request.source,
                call_sid=request.call_id,
                metadata_json={},
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            if ignore:
                await session.execute(delete(CalendarHold).where(CalendarHold.uid.in_(ignore)))
            await self._bump(session)
        return _to_booking(record)

    async def cancel(self, uid: str, reason: str) -> Booking:
        now = self.clock.now()
        async with self.db.session() as session:
            await self._lock(session)
            record = await self._record(session, uid)
            if record.status in ACTIVE:
                record.status = "cancelled"
                record.cancellation_reason = reason
                record.updated_at = now
                await self._bump(session)
            return _to_booking(record)

    async def reschedule(
        self, uid: str, new_start: datetime, *, reason: str | None = None, hold_id: str | None = None
    ) -> Booking:
        start = _aware(new_start, "new_start").astimezone(UTC)
        now = self.clock.now()
        async with self.db.session() as session:
            await self._lock(session)
            record = await self._record(session, uid)
            if record.status not in ACTIVE:
                raise InvalidRequest(f"booking {uid} is {record.status} and cannot be moved")
            service = self._service(record.service)
            self._check_window(service, start, now)
            ignore = [record.uid]
            if hold_id:
                hold = await self._live_hold(session, hold_id, now)
                if hold is not None and hold.service == service.slug and hold.start_at == start:
                    ignore.append(hold.uid)
            # Keep the same person when they are free; anyone who does the job otherwise.
            found, member = await self._pick_member(
                session, service, start, now, record.team_member, record.address, ignore, required=False
            )
            if not found:
                raise await self._unavailable(session, service, start, now, None, ignore=[record.uid])
            record.start_at = start
            record.end_at = start + service.duration
            record.team_member = member
            record.rescheduled_from = None
            record.updated_at = now
            if reason:
                record.metadata_json = {**(record.metadata_json or {}), "reschedule_reason": reason}
            if len(ignore) > 1:
                await session.execute(delete(CalendarHold).where(CalendarHold.uid.in_(ignore[1:])))
            await self._bump(session)
            return _to_booking(record)

    async def block(self, start: datetime, end: datetime, *, team_member: str | None, reason: str) -> None:
        start, end = _aware(start, "start"), _aware(end, "end")
        if end <= start:
            raise InvalidRequest("time off must end after it starts")
        async with self.db.session() as session:
            session.add(
                TimeOff(
                    business=self.business.slug,
                    team_member=team_member,
                    start_at=start,
                    end_at=end,
                    reason=reason[:256],
                    created_at=self.clock.now(),
                )
            )
            await self._bump(session)

    async def reopen(self, start: datetime, end: datetime, *, team_member: str | None) -> int:
        """Cut [start, end) out of the matching blocks: a block inside it goes, one overlapping it is trimmed
        (or split in two when the reopened time is in its middle)."""
        start, end = _aware(start, "start"), _aware(end, "end")
        changed = 0
        async with self.db.session() as session:
            rows = await session.scalars(
                select(TimeOff).where(
                    TimeOff.business == self.business.slug,
                    TimeOff.team_member.is_(None) if team_member is None else TimeOff.team_member == team_member,
                    TimeOff.start_at < end,
                    TimeOff.end_at > start,
                )
            )
            for row in list(rows):
                changed += 1
                before = (row.start_at, start) if row.start_at < start else None
                after = (end, row.end_at) if row.end_at > end else None
                if before and after:
                    row.end_at = start
                    session.add(
                        TimeOff(
                            business=row.business,
                            team_member=row.team_member,
                            start_at=end,
                            end_at=after[1],
                            reason=row.reason,
                            created_at=self.clock.now(),
                        )
                    )
                elif before:
                    row.end_at = start
                elif after:
                    row.start_at = end
                else:
                    await session.delete(row)
            if changed:
                await self._bump(session)
        return changed

    async def close(self) -> None:
        """Nothing to close: the database belongs to the runtime."""

    # -- helpers ----------------------------------------------------------------------------------

    def _service(self, slug: str) -> Service:
        try:
            return self.business.service(slug)
        except KeyError:
            known = ", ".join(s.slug for s in self.business.services)
            raise InvalidRequest(f"no service {slug!r}; this business offers {known}") from None

    def _member_name(self, service: str, name: str | None) -> str | None:
        if name is None:
            return None
        if not self.business.team:
            raise InvalidRequest(f"{self.business.name} has no team; book without a team member")
        try:
            member = self.business.member(name)
        except KeyError:
            known = ", ".join(m.name for m in self.business.team)
            raise InvalidRequest(f"no team member {name!r}; the team is {known}") from None
        if not member.offers(service):
            raise InvalidRequest(f"{member.name} does not do {service}")
        return member.name

    def _parse_slot(self, slot_id: str) -> tuple[str, datetime, str | None]:
        try:
            service, start, member = availability.decode_slot_id(slot_id)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        return service, start, self._member_name(service, member)

    def _check_window(self, service: Service, start: datetime, now: datetime) -> None:
        if start >= now + timedelta(days=self.business.booking_window_days):
            raise OutsideBookingWindow(
                f"bookings open {self.business.booking_window_days} days ahead; {start:%Y-%m-%d} is further out"
            )

    def _free(
        self,
        service: str,
        busy: list[Busy],
        now: datetime,
        start: datetime,
        end: datetime,
        member: str | None,
        address: str | None,
        ignore: list[str],
    ) -> list[Slot]:
        return availability.free_slots(
            self.business,
            service,
            busy,
            now=now,
            window_start=start,
            window_end=end,
            team_member=member,
            address=address,
            ignore=ignore,
        )

    async def _busy(self, session: AsyncSession, start: datetime, end: datetime, now: datetime) -> list[Busy]:
        """Active bookings and live holds that could reach into [start, end)."""
        lo, hi = start - self._reach, end + self._reach
        slug = self.business.slug
        bookings = select(
            BookingRecord.uid,
            BookingRecord.service,
            BookingRecord.start_at,
            BookingRecord.end_at,
            BookingRecord.team_member,
            BookingRecord.address,
        ).where(
            BookingRecord.business == slug,
            BookingRecord.backend == BACKEND,
            BookingRecord.status.in_(ACTIVE),
            BookingRecord.start_at < hi,
            BookingRecord.start_at > lo - LONGEST_JOB,  # bounds the index range scan from below
            BookingRecord.end_at > lo,
        )
        holds = select(
            CalendarHold.uid,
            CalendarHold.service,
            CalendarHold.start_at,
            CalendarHold.end_at,
            CalendarHold.team_member,
            null(),
        ).where(
            CalendarHold.business == slug,
            CalendarHold.expires_at > now,
            CalendarHold.start_at < hi,
            CalendarHold.start_at > lo - LONGEST_JOB,
            CalendarHold.end_at > lo,
        )
        # Time off is busy time with no service (so no buffers): for one team member, or everyone.
        time_off = select(
            literal("off_", String) + cast(TimeOff.id, String),
            null(),
            TimeOff.start_at,
            TimeOff.end_at,
            TimeOff.team_member,
            null(),
        ).where(TimeOff.business == slug, TimeOff.start_at < hi, TimeOff.end_at > lo)
        # One Core round trip: this runs on every slot search, so it skips the ORM's row machinery.
        connection = await session.connection()
        rows = await connection.execute(union_all(bookings, holds, time_off))
        pads = self._pads
        none = (ZERO, ZERO)
        return [
            Busy(start_at, end_at, member, address, *pads.get(svc, none), uid)
            for uid, svc, start_at, end_at, member, address in rows
        ]

    async def _pick_member(
        self,
        session: AsyncSession,
        service: Service,
        start: datetime,
        now: datetime,
        preferred: str | None,
        address: str | None,
        ignore: list[str],
        *,
        required: bool = True,
    ) -> tuple[bool, str | None]:
        """Who takes the job at `start`: `preferred` when free (and only them when `required`), else
        round-robin among the free (fewest bookings that local day, then name order).
        Returns (whether anyone is free, who)."""
        busy = await self._busy(session, start, start + timedelta(minutes=1), now)
        slots = self._free(service.slug, busy, now, start, start + timedelta(minutes=1), None, address, ignore)
        free = [s.team_member for s in slots if s.start == start]
        if not free:
            return False, None
        if preferred is not None:
            if preferred in free:
                return True, preferred
            if required:
                return False, None
        if free == [None]:
            return True, None
        return True, await self._round_robin(session, [m for m in free if m is not None], start)

    async def _round_robin(self, session: AsyncSession, members: list[str], start: datetime) -> str:
        tz = self.business.tz
        day = start.astimezone(tz).date()
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
        day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
        rows = await session.execute(
            select(BookingRecord.team_member, func.count())
            .where(
                BookingRecord.business == self.business.slug,
                BookingRecord.backend == BACKEND,
                BookingRecord.status.in_(ACTIVE),
                BookingRecord.start_at >= day_start,
                BookingRecord.start_at < day_end,
                BookingRecord.team_member.in_(members),
            )
            .group_by(BookingRecord.team_member)
        )
        counts = Counter({member: count for member, count in rows})
        return min(members, key=lambda m: (counts[m], m.lower()))

    async def _unavailable(
        self,
        session: AsyncSession,
        service: Service,
        start: datetime,
        now: datetime,
        member: str | None,
        ignore: list[str] | None = None,
    ) -> SlotUnavailable:
        """The error for a taken or impossible time, with up to three free times near it."""
        lo, hi = start - ALTERNATIVES_BEFORE, start + ALTERNATIVES_AFTER
        busy = await self._busy(session, lo, hi, now)
        slots = self._free(service.slug, busy, now, lo, hi, member, None, ignore or [])
        if member is None:
            slots = availability.distinct_starts(slots)
        earliest = now + timedelta(minutes=service.min_notice_minutes)
        if start < earliest:
            reason = f"{service.name} needs {service.min_notice_minutes} minutes' notice"
        else:
            reason = "that time is not available"
        return SlotUnavailable(reason, availability.nearest(slots, start))

    async def _live_hold(self, session: AsyncSession, hold_id: str, now: datetime) -> CalendarHold | None:
        return await session.scalar(
            select(CalendarHold).where(
                CalendarHold.business == self.business.slug,
                CalendarHold.uid == hold_id,
                CalendarHold.expires_at > now,
            )
        )

    async def _record(self, session: AsyncSession, uid: str) -> BookingRecord:
        record = await session.scalar(
            select(BookingRecord).where(
                BookingRecord.uid == uid,
                BookingRecord.business == self.business.slug,
                BookingRecord.backend == BACKEND,
            )
        )
        if record is None:
            raise NotFound(f"no booking {uid}")
        return record

    async def _lock(self, session: AsyncSession) -> None:
        """Take this business's calendar lock for the rest of the transaction."""
        dialect = session.bind.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(CalendarLock).values(business=self.business.slug, version=0).on_conflict_do_nothing()
        )
        await session.execute(
            select(CalendarLock.version).where(CalendarLock.business == self.business.slug).with_for_update()
        )

    async def _bump(self, session: AsyncSession) -> None:
        await session.execute(
            update(CalendarLock)
            .where(CalendarLock.business == self.business.slug)
            .values(version=CalendarLock.version + 1)
        )


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidRequest(f"{name} must be timezone-aware")
    return value


def _to_booking(record: BookingRecord) -> Booking:
    return Booking(
        uid=record.uid,
        business=record.business,
        service=record.service,
        start=record.start_at,
        end=record.end_at,
        status=record.status,  # type: ignore[arg-type]
        name=record.attendee_name,
        phone=record.attendee_phone,
        email=record.attendee_email,
        address=record.address,
        notes=record.notes,
        team_member=record.team_member,
        payment_link=record.payment_link,
        rescheduled_from=record.rescheduled_from,
        call_id=record.call_sid,
        source=record.source,
        extra={"cancellation_reason": record.cancellation_reason} if record.cancellation_reason else {},
    )


__all__ = ["LocalCalendar"]
