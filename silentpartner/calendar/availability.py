"""Slot math: pure functions, no I/O, shared by the local backend, the slot cache and the benchmark.

Conventions:
- Every datetime in and out is timezone-aware; results are in UTC. Opening hours are wall-clock
  spans in the business timezone and are turned into UTC intervals day by day with `zoneinfo`, so a
  span on a DST day has its true length (08:00-17:00 is 9 hours every day; 00:00-04:00 is 3 hours on
  spring-forward day and 5 on fall-back day). Candidate starts sit on a wall-clock grid from the span
  start every `slot_interval_minutes`; a grid time that does not exist (the skipped spring-forward
  hour) is left out, and one that happens twice (the repeated fall-back hour) is offered at both
  instants. Durations are real elapsed minutes.
- A booking or hold occupies its own time plus its service's buffers: [start - before, end + after).
  A new slot may not overlap that, and the slot plus its own buffers may not overlap the booking's.
  Put together: the padded intervals of the two must not overlap.
- Travel buffer: between two jobs the business adds `travel_buffer_minutes` on each side unless both
  addresses are known and the same. An unknown address counts as "somewhere else" so a slot offered
  before the caller gave an address is still bookable once they have.
- Team: every member who offers the service is a separate resource with their own hours (their
  `hours` when set, else the service's hours; when both are set, the time they share). A business
  with no team is one resource (`team_member=None`). A busy item with no team member blocks every
  resource; one naming a member blocks only that member.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from silentpartner.business import Business, Service, Span, WeeklyHours
from silentpartner.calendar.port import Slot

ZERO = timedelta(0)
MAX_OFFERS = 3


@dataclass(frozen=True, slots=True)
class Busy:
    """Time a resource is taken: a booking or a live hold, with the padding its service needs."""

    start: datetime
    end: datetime
    team_member: str | None = None
    address: str | None = None
    buffer_before: timedelta = ZERO
    buffer_after: timedelta = ZERO
    ref: str | None = None  # booking uid or hold uid, so a caller can ignore its own

    @classmethod
    def of(
        cls,
        business: Business,
        service_slug: str,
        start: datetime,
        end: datetime,
        *,
        team_member: str | None = None,
        address: str | None = None,
        ref: str | None = None,
    ) -> Busy:
        """A busy item padded with the buffers of `service_slug` (none when the service is unknown)."""
        before = after = ZERO
        try:
            service = business.service(service_slug)
            before = timedelta(minutes=service.buffer_before_minutes)
            after = timedelta(minutes=service.buffer_after_minutes)
        except KeyError:
            pass
        return cls(start, end, team_member, address, before, after, ref)


@dataclass(frozen=True, slots=True)
class Resource:
    """Someone (or the business as a whole) who can do the job, with the hours they can do it."""

    name: str | None
    hours: WeeklyHours


# -- slot ids -------------------------------------------------------------------------------------


def encode_slot_id(service: str, start: datetime, team_member: str | None) -> str:
    """An opaque id for a slot; `decode_slot_id` reads it back (callers still re-validate the time)."""
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    raw = f"s1|{service}|{stamp}|{team_member or ''}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_slot_id(slot_id: str) -> tuple[str, datetime, str | None]:
    """(service, start in UTC, team member or None); ValueError when the id is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(slot_id + "=" * (-len(slot_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"{slot_id!r} is not a slot id") from None
    parts = raw.split("|")
    if len(parts) != 4 or parts[0] != "s1" or not parts[1]:
        raise ValueError(f"{slot_id!r} is not a slot id")
    try:
        start = datetime.strptime(parts[2], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{slot_id!r} is not a slot id") from None
    return parts[1], start, parts[3] or None


def make_slot(service: Service, start: datetime, team_member: str | None) -> Slot:
    start = start.astimezone(UTC)
    return Slot(
        id=encode_slot_id(service.slug, start, team_member),
        service=service.slug,
        start=start,
        end=start + service.duration,
        team_member=team_member,
    )


# -- hours ----------------------------------------------------------------------------------------


def intersect_hours(a: WeeklyHours, b: WeeklyHours) -> WeeklyHours:
    """The times open in both `a` and `b`, day by day."""
    days: dict[str, list[str]] = {}
    for weekday, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        spans = []
        for x in a.for_weekday(weekday):
            for y in b.for_weekday(weekday):
                lo = max(x.start_minutes, y.start_minutes)
                hi = min(x.end_minutes, y.end_minutes)
                if lo < hi:
                    spans.append(f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}")
        days[name] = spans
    return WeeklyHours.model_validate(days)


def resources_for(business: Business, service: Service, team_member: str | None = None) -> list[Resource]:
    """Who can do `service` (only `team_member` when named), each with their hours for it.

    Raises KeyError for an unknown member and ValueError for a member who does not offer the service.
    """
    service_hours = business.hours_for(service)
    if not business.team:
        if team_member is not None:
            raise KeyError(team_member)
        return [Resource(None, service_hours)]
    if team_member is not None:
        member = business.member(team_member)
        if not member.offers(service.slug):
            raise ValueError(f"{member.name} does not do {service.name}")
        members = [member]
    else:
        members = sorted(business.team_for(service.slug), key=lambda m: m.name.lower())
    resources = []
    for member in members:
        if member.hours is None:
            hours = service_hours
        elif service.hours is None:
            hours = member.hours
        else:
            hours = intersect_hours(member.hours, service.hours)
        resources.append(Resource(member.name, hours))
    return resources


def _local(day: date, minutes: int, tz: ZoneInfo, fold: int) -> datetime:
    """Wall-clock `minutes` after midnight of `day` (24:00 is the next midnight) as an aware time."""
    if minutes >= 24 * 60:
        day, minutes = day + timedelta(days=1), minutes - 24 * 60
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).replace(fold=fold)


def _instants(day: date, minutes: int, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants that wall-clock time is: none (spring-forward gap), one, or two (fall-back)."""
    out = []
    for fold in (0, 1):
        local = _local(day, minutes, tz, fold)
        utc = local.astimezone(UTC)
        back = utc.astimezone(tz)
        if (back.hour, back.minute) == (local.hour, local.minute) and utc not in out:
            out.append(utc)
    return out


def span_interval(day: date, span: Span, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC interval a wall-clock span covers on `day`: from its first instant to its last one."""
    # fold=0 is the earlier reading of an ambiguous time and, for a time in the spring-forward gap,
    # the instant just after the gap; fold=1 is the later reading.
    start = _local(day, span.start_minutes, tz, 0).astimezone(UTC)
    end = _local(day, span.end_minutes, tz, 1).astimezone(UTC)
    return start, end


def candidate_starts(
    business: Business, service: Service, hours: WeeklyHours, first_day: date, last_day: date
) -> list[datetime]:
    """Every grid start (UTC, sorted) whose whole job fits inside an opening span, for local days
    first_day..last_day inclusive. Closed dates have none."""
    tz = business.tz
    step = business.slot_interval_minutes
    duration = service.duration
    out: list[datetime] = []
    day = first_day
    while day <= last_day:
        spans = hours.for_weekday(day.weekday())
        if spans and not business.is_closed_on(day):
            midnight = datetime.combine(day, time(0), tzinfo=tz)
            offset = midnight.utcoffset()
            steady = offset == datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).utcoffset()
            midnight_utc = datetime.combine(day, time(0), tzinfo=UTC) - offset if offset is not None else midnight
            for span in spans:
                if steady:
                    # No clock change today: wall-clock minutes map straight onto UTC.
                    first = midnight_utc + timedelta(minutes=span.start_minutes)
                    latest = midnight_utc + timedelta(minutes=span.end_minutes) - duration
                    t = first
                    while t <= latest:
                        out.append(t)
                        t += timedelta(minutes=step)
                    continue
                span_start, span_end = span_interval(day, span, tz)
                latest = span_end - duration
                for minutes in range(span.start_minutes, span.end_minutes, step):
                    for instant in _instants(day, minutes, tz):
                        if span_start <= instant <= latest:
                            out.append(instant)
        day += timedelta(days=1)
    out.sort()
    return out


# -- subtracting busy time ------------------------------------------------------------------------


def same_address(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return " ".join(a.casefold().replace(",", " ").split()) == " ".join(b.casefold().replace(",", " ").split())


def _blocked(
    busy: Iterable[Busy], travel: timedelta, address: str | None, lo: datetime, hi: datetime
) -> tuple[list[datetime], list[datetime]]:
    """Padded busy intervals touching [lo, hi), merged: (starts, ends), both sorted."""
    raw = []
    for item in busy:
        extra = ZERO if not travel or same_address(address, item.address) else travel
        start = item.start - item.buffer_before - extra
        end = item.end + item.buffer_after + extra
        if end > lo and start < hi:
            raw.append((start, end))
    raw.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for start, end in raw:
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def free_slots(
    business: Business,
    service_slug: str,
    busy: Iterable[Busy],
    *,
    now: datetime,
    window_start: datetime,
    window_end: datetime,
    team_member: str | None = None,
    address: str | None = None,
    ignore: Iterable[str] = (),
) -> list[Slot]:
    """Every free (start, team member) for `service_slug` starting in [window_start, window_end),
    sorted by start then member name. Applies hours, closed dates, the slot grid, minimum notice,
    the booking window, buffers and travel. Busy items whose `ref` is in `ignore` do not count.

    Raises KeyError for an unknown service or member, ValueError for a member who does not do it.
    """
    service = business.service(service_slug)
    resources = resources_for(business, service, team_member)
    earliest = now + timedelta(minutes=service.min_notice_minutes)
    latest = now + timedelta(days=business.booking_window_days)
    lo = max(window_start, earliest, now).astimezone(UTC)
    hi = min(window_end, latest).astimezone(UTC)
    if lo >= hi:
        return []

    tz = business.tz
    first_day = lo.astimezone(tz).date()
    last_day = hi.astimezone(tz).date()
    pad_before = timedelta(minutes=service.buffer_before_minutes)
    pad_after = service.duration + timedelta(minutes=service.buffer_after_minutes)
    travel = timedelta(minutes=business.travel_buffer_minutes)
    ignored = set(ignore)
    everyone = not business.team
    by_member: dict[str | None, list[Busy]] = {}
    for item in busy:
        if item.ref is not None and item.ref in ignored:
            continue
        by_member.setdefault(None if everyone else item.team_member, []).append(item)
    shared = by_member.get(None, [])

    results: list[Slot] = []
    reach_lo, reach_hi = lo - pad_before, hi + pad_after
    for resource in resources:
        items = shared if resource.name is None else shared + by_member.get(resource.name, [])
        block_starts, block_ends = _blocked(items, travel, address, reach_lo, reach_hi)
        for start in candidate_starts(business, service, resource.hours, first_day, last_day):
            if start < lo or start >= hi:
                continue
            occupied_start = start - pad_before
            occupied_end = start + pad_after
            # The first merged block ending after our padded start is the only one that can overlap.
            i = bisect_right(block_ends, occupied_start)
            if i < len(block_starts) and block_starts[i] < occupied_end:
                continue
            results.append(make_slot(service, start, resource.name))
    results.sort(key=lambda s: (s.start, s.team_member or ""))
    return results


def distinct_starts(slots: Sequence[Slot]) -> list[Slot]:
    """One slot per start time with no team member attached (the "anyone free" view), sorted."""
    seen: dict[datetime, Slot] = {}
    for slot in slots:
        if slot.start not in seen:
            seen[slot.start] = Slot(
                id=encode_slot_id(slot.service, slot.start, None),
                service=slot.service,
                start=slot.start,
                end=slot.end,
                team_member=None,
            )
    return [seen[k] for k in sorted(seen)]


# -- choosing what to offer -----------------------------------------------------------------------


def choose_offers(
    slots: Sequence[Slot], window_start: datetime, window_end: datetime, limit: int = MAX_OFFERS
) -> list[Slot]:
    """A few good offers for a requested window ("tomorrow afternoon"): at most three, spread across
    the window, earliest first.

    The window is cut into `limit` equal parts and the earliest free start in each part is offered;
    when a part has nothing, the free start farthest from those already chosen fills the gap.
    """
    limit = max(0, min(limit, MAX_OFFERS))
    by_start: dict[datetime, Slot] = {}
    for slot in sorted(slots, key=lambda s: s.start):
        if window_start <= slot.start < window_end and slot.start not in by_start:
            by_start[slot.start] = slot
    pool = list(by_start.values())
    if len(pool) <= limit:
        return pool
    if limit == 0:
        return []
    width = (window_end - window_start) / limit
    chosen: list[Slot] = []
    for part in range(limit):
        part_start = window_start + width * part
        part_end = window_start + width * (part + 1)
        first = next((s for s in pool if part_start <= s.start < part_end and s not in chosen), None)
        if first is not None:
            chosen.append(first)
    while len(chosen) < limit:
        rest = [s for s in pool if s not in chosen]
        best = max(rest, key=lambda s: (min(abs(s.start - c.start) for c in chosen), -s.start.timestamp()))
        chosen.append(best)
    return sorted(chosen, key=lambda s: s.start)


def earliest(slots: Sequence[Slot], limit: int = MAX_OFFERS, gap: timedelta = timedelta(hours=1)) -> list[Slot]:
    """The earliest free starts, at least `gap` apart where possible ("as soon as possible", "the next day we
    have"): 8, 9:30 and 11 rather than 8, 8:30 and 9."""
    ordered = sorted({s.start: s for s in slots}.values(), key=lambda s: s.start)
    picked: list[Slot] = []
    for slot in ordered:
        if len(picked) == limit:
            break
        if all(abs(slot.start - p.start) >= gap for p in picked):
            picked.append(slot)
    for slot in ordered:  # not enough well-spaced ones: fill with the rest
        if len(picked) >= limit:
            break
        if slot not in picked:
            picked.append(slot)
    return sorted(picked, key=lambda s: s.start)


def nearest(slots: Sequence[Slot], target: datetime, limit: int = MAX_OFFERS) -> list[Slot]:
    """Up to `limit` slots closest to `target` (later wins a tie), returned in time order."""
    ranked = sorted(slots, key=lambda s: (abs(s.start - target), s.start < target, s.start))
    return sorted(ranked[:limit], key=lambda s: s.start)
