"""Slot math: properties over random calendars, DST days in America/Los_Angeles, and choosing offers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silentpartner.business import Business, WeeklyHours, demo_businesses
from silentpartner.calendar.availability import (
    Busy,
    candidate_starts,
    choose_offers,
    decode_slot_id,
    distinct_starts,
    encode_slot_id,
    free_slots,
    make_slot,
    nearest,
    resources_for,
    span_interval,
)

DEMO = demo_businesses().get("mikes-plumbing")
TZ = DEMO.tz
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tue 10:00 in Portland


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


def week(start: datetime = NOW) -> tuple[datetime, datetime]:
    return start, start + timedelta(days=8)


# -- properties ------------------------------------------------------------------------------------

TRAVEL = DEMO.model_copy(update={"travel_buffer_minutes": 30})
SOLO = DEMO.model_copy(update={"team": ()})
# Open through the night at weekends, on a 20-minute grid: spans that cross the DST changes.
NIGHTLY = SOLO.model_copy(
    update={
        "hours": WeeklyHours.model_validate({"sat": ["22:00-24:00"], "sun": ["00:00-04:00", "22:00-24:00"]}),
        "slot_interval_minutes": 20,
    }
)
# Weeks that hold spring-forward (Sun 8 Mar), fall-back (Sun 1 Nov) and the suite's ordinary week.
BASES = [NOW, datetime(2026, 3, 5, 18, 0, tzinfo=UTC), datetime(2026, 10, 29, 18, 0, tzinfo=UTC)]
ADDRESSES = ["12 Oak St", "99 Elm Ave", None]


@st.composite
def calendars(draw):
    business = draw(st.sampled_from([DEMO, TRAVEL, SOLO, NIGHTLY]))
    base = draw(st.sampled_from(BASES))
    names = [m.name for m in business.team] or [None]
    bookings = []
    for _ in range(draw(st.integers(0, 25))):
        service = draw(st.sampled_from([s.slug for s in business.services]))
        start = base + timedelta(minutes=5 * draw(st.integers(-24 * 12, 8 * 24 * 12)))
        duration = business.service(service).duration
        member = draw(st.sampled_from([*names, None]))
        address = draw(st.sampled_from(ADDRESSES))
        bookings.append(Busy.of(business, service, start, start + duration, team_member=member, address=address))
    now = base + timedelta(minutes=draw(st.integers(-600, 3 * 24 * 60)))
    service = draw(st.sampled_from([s.slug for s in business.services]))
    address = draw(st.sampled_from(ADDRESSES))
    return business, bookings, now, service, address


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_no_offered_slot_overlaps_a_booking_lies_outside_hours_or_violates_notice(case) -> None:
    business, bookings, now, service_slug, address = case
    service = business.service(service_slug)
    slots = free_slots(
        business, service_slug, bookings, now=now, window_start=now - timedelta(days=1),
        window_end=now + timedelta(days=9), address=address,
    )  # fmt: skip
    hours_by_member = {r.name: r.hours for r in resources_for(business, service)}
    before = timedelta(minutes=service.buffer_before_minutes)
    after = timedelta(minutes=service.buffer_after_minutes)
    travel = timedelta(minutes=business.travel_buffer_minutes)
    for slot in slots:
        assert slot.end - slot.start == service.duration
        # Notice.
        assert slot.start >= now + timedelta(minutes=service.min_notice_minutes)
        # Hours: the whole job inside one opening span of whoever does it, on an open day.
        day = slot.start.astimezone(TZ).date()
        spans = hours_by_member[slot.team_member].for_weekday(day.weekday())
        intervals = [span_interval(day, span, TZ) for span in spans]
        assert any(lo <= slot.start and slot.end <= hi for lo, hi in intervals), slot
        # Bookings plus buffers (and travel when the places differ).
        for booking in bookings:
            if not business.team or booking.team_member in (None, slot.team_member):
                same_place = address is not None and booking.address == address
                gap = ZERO if same_place else travel
                assert not _overlaps(
                    slot.start,
                    slot.end,
                    booking.start - booking.buffer_before - gap,
                    booking.end + booking.buffer_after + gap,
                ), (slot, booking)
                assert not _overlaps(slot.start - before - gap, slot.end + after + gap, booking.start, booking.end), (
                    slot,
                    booking,
                )


ZERO = timedelta(0)


@settings(max_examples=100, deadline=None)
@given(calendars(), st.integers(0, 6), st.integers(0, 23), st.integers(1, 8), st.integers(0, 5))
def test_choose_offers_is_a_small_spread_subset(case, day, hour, hours_long, limit) -> None:
    business, bookings, now, service_slug, _address = case
    slots = distinct_starts(
        free_slots(business, service_slug, bookings, now=now, window_start=now, window_end=now + timedelta(days=8))
    )
    first_day = now.astimezone(TZ).date() + timedelta(days=day)
    window_start = datetime(first_day.year, first_day.month, first_day.day, hour, tzinfo=TZ)
    window_end = window_start + timedelta(hours=hours_long)
    offers = choose_offers(slots, window_start, window_end, limit=limit)
    in_window = [s for s in slots if window_start <= s.start < window_end]
    assert len(offers) <= min(limit, 3)
    assert len(offers) == min(limit, 3, len(in_window))
    assert offers == sorted(offers, key=lambda s: s.start)
    assert len({s.start for s in offers}) == len(offers)
    assert all(s in in_window for s in offers)
    if offers:
        assert offers[0] == in_window[0]  # earliest first


# -- the demo business ------------------------------------------------------------------------------


def test_notice_hours_and_team_on_the_demo_business() -> None:
    slots = free_slots(DEMO, "service-call", [], now=NOW, window_start=NOW, window_end=NOW + timedelta(days=7))
    # Tuesday 10:00 with two hours' notice: the first start is noon, for both Dana and Mike.
    assert [(s.start, s.team_member) for s in slots[:2]] == [
        (local(2026, 11, 24, 12).astimezone(UTC), "Dana"),
        (local(2026, 11, 24, 12).astimezone(UTC), "Mike"),
    ]
    dana = [s.start.astimezone(TZ) for s in slots if s.team_member == "Dana"]
    mike = [s.start.astimezone(TZ) for s in slots if s.team_member == "Mike"]
    # Dana works Mon-Thu 08-16: no Friday, no weekend, nothing ending after 16:00.
    assert {d.weekday() for d in dana} <= {0, 1, 2, 3}
    assert max(d.hour * 60 + d.minute for d in dana) == 15 * 60
    # Mike keeps the business hours: Friday to 17:00, Saturday 09-13, never Sunday.
    assert any(d.weekday() == 4 and d.hour == 16 for d in mike)
    sat = [d for d in mike if d.weekday() == 5]
    assert sat[0].hour == 9 and sat[-1].hour == 12 and sat[-1].minute == 0
    assert not any(d.weekday() == 6 for d in mike)


def test_emergency_uses_its_own_hours_every_day_with_no_notice() -> None:
    sunday = local(2026, 11, 29)
    slots = free_slots(DEMO, "emergency", [], now=NOW, window_start=sunday, window_end=sunday + timedelta(days=1))
    assert {s.team_member for s in slots} == {"Mike"}  # Dana does not do emergencies
    assert slots[0].start == local(2026, 11, 29, 7).astimezone(UTC)
    assert slots[-1].start == local(2026, 11, 29, 20).astimezone(UTC)
    today = free_slots(DEMO, "emergency", [], now=NOW, window_start=NOW, window_end=NOW + timedelta(hours=1))
    assert today[0].start == NOW  # no notice: right now is bookable


def test_buffers_travel_and_closed_dates() -> None:
    day = local(2026, 11, 25)  # Wednesday
    job = Busy.of(DEMO, "service-call", local(2026, 11, 25, 10), local(2026, 11, 25, 11), team_member="Mike")
    starts = {
        s.start.astimezone(TZ).strftime("%H:%M")
        for s in free_slots(
            DEMO, "service-call", [job], now=NOW, window_start=day, window_end=day + timedelta(days=1),
            team_member="Mike",
        )
    }  # fmt: skip
    # 10-11 plus 15 minutes after it, and our own 15 after: 09:00 would end 10:00 +15 = overlap.
    assert "08:30" in starts and "09:00" not in starts and "11:00" not in starts and "11:30" in starts

    travel = DEMO.model_copy(update={"travel_buffer_minutes": 30})
    near = Busy.of(travel, "estimate", local(2026, 11, 25, 10), local(2026, 11, 25, 10, 30), address="1 Main St")

    def estimate_starts(address):
        return {
            s.start.astimezone(TZ).strftime("%H:%M")
            for s in free_slots(
                travel, "estimate", [near], now=NOW, window_start=day, window_end=day + timedelta(days=1),
                team_member="Dana", address=address,
            )
        }  # fmt: skip

    same = estimate_starts("1  main st,")
    other = estimate_starts("8 Pine Rd")
    assert "09:30" in same and "10:30" in same
    assert "09:30" not in other and "10:30" not in other and "09:00" in other and "11:00" in other

    closed = DEMO.model_copy(update={"closed_dates": (date(2026, 11, 26),)})
    thanksgiving = local(2026, 11, 26)
    assert (
        free_slots(closed, "emergency", [], now=NOW, window_start=thanksgiving, window_end=thanksgiving + timedelta(1))
        == []
    )


def test_booking_window_and_unknown_names() -> None:
    far = NOW + timedelta(days=DEMO.booking_window_days)
    assert free_slots(DEMO, "emergency", [], now=NOW, window_start=far, window_end=far + timedelta(days=2)) == []
    with pytest.raises(KeyError):
        free_slots(DEMO, "no-such", [], now=NOW, window_start=NOW, window_end=NOW + timedelta(days=1))
    with pytest.raises(ValueError):
        free_slots(
            DEMO, "emergency", [], now=NOW, window_start=NOW, window_end=NOW + timedelta(days=1), team_member="Dana"
        )


def test_slot_ids_round_trip_and_reject_garbage() -> None:
    start = local(2026, 11, 25, 9, 30)
    slot_id = encode_slot_id("estimate", start, "Dana")
    assert decode_slot_id(slot_id) == ("estimate", start.astimezone(UTC), "Dana")
    assert decode_slot_id(encode_slot_id("estimate", start, None))[2] is None
    for garbage in ("", "nope", "czF8", "!!!"):
        with pytest.raises(ValueError):
            decode_slot_id(garbage)


# -- DST ------------------------------------------------------------------------------------------

NIGHT = DEMO.model_copy(
    update={"hours": WeeklyHours.model_validate({"sun": ["00:00-04:00"]}), "team": (), "slot_interval_minutes": 30}
)


def test_spring_forward_skips_the_missing_hour_and_spans_are_short() -> None:
    day = date(2026, 3, 8)
    span = NIGHT.hours.sun[0]
    start, end = span_interval(day, span, TZ)
    assert end - start == timedelta(hours=3)
    estimate = NIGHT.service("estimate")
    labels = [s.astimezone(TZ).strftime("%H:%M") for s in candidate_starts(NIGHT, estimate, NIGHT.hours, day, day)]
    assert labels == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]
    # An hour-long job from 01:30 PST lasts sixty real minutes and ends at 03:30 PDT.
    service_call = NIGHT.service("emergency").model_copy(update={"hours": None})
    jobs = candidate_starts(NIGHT, service_call, NIGHT.hours, day, day)
    slot = make_slot(service_call, jobs[3], None)
    assert slot.start.astimezone(TZ).strftime("%H:%M%z") == "01:30-0800"
    assert slot.end.astimezone(TZ).strftime("%H:%M%z") == "03:30-0700"


def test_fall_back_offers_the_repeated_hour_twice_and_spans_are_long() -> None:
    day = date(2026, 11, 1)
    start, end = span_interval(day, NIGHT.hours.sun[0], TZ)
    assert end - start == timedelta(hours=5)
    estimate = NIGHT.service("estimate")
    starts = candidate_starts(NIGHT, estimate, NIGHT.hours, day, day)
    labels = [s.astimezone(TZ).strftime("%H:%M%z") for s in starts]
    assert labels == [
        "00:00-0700", "00:30-0700", "01:00-0700", "01:30-0700", "01:00-0800", "01:30-0800",
        "02:00-0800", "02:30-0800", "03:00-0800", "03:30-0800",
    ]  # fmt: skip
    assert len(set(starts)) == len(starts)


@pytest.mark.parametrize(
    ("day", "first_utc_hour"),
    [(date(2026, 3, 7), 15), (date(2026, 3, 8), 14), (date(2026, 10, 31), 14), (date(2026, 11, 1), 15)],
)
def test_demo_emergency_hours_keep_their_wall_clock_across_dst(day: date, first_utc_hour: int) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC) if day.month == 3 else datetime(2026, 10, 25, tzinfo=UTC)
    window_start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    slots = free_slots(
        DEMO, "emergency", [], now=now, window_start=window_start, window_end=window_start + timedelta(days=1)
    )
    first, last = slots[0], slots[-1]
    assert first.start.hour == first_utc_hour and first.start.astimezone(TZ).hour == 7
    assert last.end.astimezone(TZ).hour == 21
    assert len(slots) == (14 * 60 - 60) // 30 + 1  # 07:00..20:00 every half hour, DST day or not
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


# -- choosing offers -------------------------------------------------------------------------------


def _grid(start: datetime, end: datetime, step: int = 30):
    out, t = [], start
    while t < end:
        out.append(make_slot(DEMO.service("estimate"), t, None))
        t += timedelta(minutes=step)
    return out


def test_choose_offers_spreads_across_the_afternoon() -> None:
    afternoon = (local(2026, 11, 25, 12), local(2026, 11, 25, 17))
    slots = _grid(local(2026, 11, 25, 8), local(2026, 11, 25, 17))
    offers = choose_offers(slots, *afternoon)
    labels = [s.start.astimezone(TZ).strftime("%H:%M") for s in offers]
    assert labels == ["12:00", "14:00", "15:30"]
    assert len(choose_offers(slots, *afternoon, limit=10)) == 3
    assert [s.start for s in choose_offers(slots, *afternoon, limit=1)] == [local(2026, 11, 25, 12)]


def test_choose_offers_fills_an_empty_part_with_the_most_distant_time() -> None:
    # Free only 12:00-14:00: every start sits in the first part of a 12-18 window.
    slots = _grid(local(2026, 11, 25, 12), local(2026, 11, 25, 14))
    offers = choose_offers(slots, local(2026, 11, 25, 12), local(2026, 11, 25, 18))
    assert [s.start.astimezone(TZ).strftime("%H:%M") for s in offers] == ["12:00", "12:30", "13:30"]
    few = _grid(local(2026, 11, 25, 12), local(2026, 11, 25, 13))
    assert choose_offers(few, local(2026, 11, 25, 12), local(2026, 11, 25, 18)) == few
    assert choose_offers([], local(2026, 11, 25, 12), local(2026, 11, 25, 18)) == []


def test_nearest_picks_the_closest_in_time_order() -> None:
    slots = _grid(local(2026, 11, 25, 8), local(2026, 11, 25, 17), step=60)
    picked = nearest(slots, local(2026, 11, 25, 12, 10))
    assert [s.start.astimezone(TZ).hour for s in picked] == [11, 12, 13]


def test_a_business_without_a_team_is_one_resource() -> None:
    business: Business = SOLO
    job = Busy.of(business, "estimate", local(2026, 11, 25, 9), local(2026, 11, 25, 9, 30), team_member="Ghost")
    day = local(2026, 11, 25)
    slots = free_slots(business, "estimate", [job], now=NOW, window_start=day, window_end=day + timedelta(days=1))
    assert {s.team_member for s in slots} == {None}
    assert local(2026, 11, 25, 9).astimezone(UTC) not in {s.start for s in slots}
