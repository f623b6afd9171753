"""The dashboard's pure parts: a call's category and summary, the transcript's per-turn latency, the report's
figures (after hours, won back by text, percentiles, weeks), and the SVG charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from silentpartner.business import demo_businesses
from silentpartner.dashboard.calls import category, transcript_turns
from silentpartner.dashboard.charts import Series, bar_chart, nice_ceiling
from silentpartner.dashboard.reports import after_hours, build_report, percentile
from silentpartner.messaging.call_summary import post_call_summary
from silentpartner.store.models import BookingRecord, CallRecord

DEMO = demo_businesses().get("mikes-plumbing")
# Tuesday 24 November 2026, 10:00 in Portland.
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def call(**values: Any) -> CallRecord:
    defaults: dict[str, Any] = {
        "sid": "CA1",
        "business": DEMO.slug,
        "from_number": "+15035550123",
        "is_owner": False,
        "channel": "phone",
        "status": "completed",
        "outcome": None,
        "booking_uid": None,
        "message_for_owner": None,
        "transcript": [],
        "latencies_ms": [],
        "started_at": NOW,
        "ended_at": NOW + timedelta(minutes=2),
        "end_reason": "socket closed",
        "details": {},
        "textback_queued": False,
        "transfer_outcome": None,
    }
    return CallRecord(**{**defaults, **values})


def booking(**values: Any) -> BookingRecord:
    defaults: dict[str, Any] = {
        "uid": "loc-1",
        "business": DEMO.slug,
        "service": "service-call",
        "start_at": NOW + timedelta(days=1),
        "end_at": NOW + timedelta(days=1, hours=1),
        "team_member": "Dana",
        "attendee_phone": "+15035550123",
        "source": "call",
        "status": "accepted",
        "created_at": NOW,
    }
    return BookingRecord(**{**defaults, **values})


def test_a_calls_category() -> None:
    assert category(call(outcome="booked")) == "booked"
    assert category(call(outcome="rescheduled")) == "changed"
    assert category(call(outcome="transferred")) == "transferred"
    assert category(call(status="transferred")) == "transferred"
    assert category(call(message_for_owner="call me")) == "message"
    assert category(call(end_reason="cut off")) == "cut off"
    assert category(call(end_reason="cut off", outcome="booked")) == "booked"  # it booked before it was cut off
    assert category(call(outcome="info")) == "answered"
    assert category(call(is_owner=True, outcome="info")) == "owner"
    assert category(call(status="in-progress", ended_at=None, end_reason=None)) == "live"
    assert category(call()) == "missed"


def test_the_summary_says_who_what_how_it_ended_and_what_next() -> None:
    details = {"name": "Jordan Smith", "problem": "kitchen faucet is leaking.", "address": "1234 Oak Street"}
    assert post_call_summary(DEMO, call(outcome="booked", details=details), booking()) == (
        "Jordan Smith, (503) 555-0123, about: kitchen faucet is leaking, at 1234 Oak Street. "
        "Booked: service call Wed Nov 25 at 10:00 AM with Dana. Nothing to do until the visit."
    )
    assert post_call_summary(DEMO, call(textback_queued=True)) == (
        "A caller, (503) 555-0123. Nothing booked: they hung up. We texted them back. Next: call or text them back."
    )
    assert post_call_summary(DEMO, call(from_number=None, end_reason="cut off")) == (
        "A caller. Nothing booked: the call was cut off on our side. They left no number to call back."
    )
    message = call(outcome="message", message_for_owner="Please call about a quote.", details={"name": "Pat"})
    assert post_call_summary(DEMO, message) == (
        'Pat, (503) 555-0123. Left a message: "Please call about a quote". Next: call or text them back.'
    )
    missed_transfer = call(outcome="transferred", transfer_outcome="no-answer")
    assert post_call_summary(DEMO, missed_transfer).endswith(
        "Put through to you, but the transfer was not taken (no-answer). Next: call or text them back."
    )
    assert post_call_summary(DEMO, call(outcome="transferred", transfer_outcome="connected")).endswith(
        "Put through to you, and you took the call."
    )
    assert post_call_summary(DEMO, call(status="in-progress", ended_at=None, end_reason=None)).endswith(
        "The call is going on now."
    )


def turn(role: str, text: str, t: float = 0.0) -> dict[str, Any]:
    return {"role": role, "text": text, "t": t, "at": (NOW + timedelta(seconds=t)).isoformat()}


def test_each_latency_goes_to_the_first_reply_after_the_callers_turn() -> None:
    transcript = [
        turn("agent", "Hello, Mike's Plumbing."),
        turn("caller", "Hi."),
        turn("caller", "My tap leaks."),  # two caller lines before the reply: one turn
        turn("agent", "Sorry to hear that."),
        turn("agent", "What's your name?"),  # the same reply's second line: no latency of its own
        {"role": "system", "text": "ignored"},
        "not even a dict",
        turn("caller", "Pat."),
        turn("agent", "Thanks, Pat."),
        turn("caller", "Bye."),  # the call ended before a reply: its latency was never measured
    ]
    turns = transcript_turns(DEMO, transcript, [900, 1200])
    assert [(t.role, t.latency_ms) for t in turns] == [
        ("agent", None),
        ("caller", None),
        ("caller", None),
        ("agent", 900),
        ("agent", None),
        ("caller", None),
        ("agent", 1200),
        ("caller", None),
    ]
    assert turns[0].at == NOW.astimezone(DEMO.tz)


def test_after_hours_follows_the_business_hours_and_closed_days() -> None:
    local = DEMO.tz
    assert not after_hours(DEMO, datetime(2026, 11, 24, 9, 0, tzinfo=local))
    assert after_hours(DEMO, datetime(2026, 11, 24, 17, 0, tzinfo=local))  # closes at 17:00
    assert after_hours(DEMO, datetime(2026, 11, 24, 7, 59, tzinfo=local))
    assert after_hours(DEMO, datetime(2026, 11, 29, 10, 0, tzinfo=local))  # Sunday
    closed = DEMO.model_copy(update={"closed_dates": (date(2026, 11, 26),)})
    assert after_hours(closed, datetime(2026, 11, 26, 10, 0, tzinfo=local))


def test_the_report_counts_by_day_and_week() -> None:
    local = DEMO.tz
    evening = datetime(2026, 11, 23, 19, 0, tzinfo=local)  # Monday, after hours
    calls = [
        call(
            sid="a", started_at=datetime(2026, 11, 24, 9, 0, tzinfo=local), outcome="booked", latencies_ms=[800, 1000]
        ),
        call(sid="b", started_at=datetime(2026, 11, 24, 9, 30, tzinfo=local), latencies_ms=[600], textback_queued=True),
        call(sid="c", started_at=evening, outcome="message", message_for_owner="x", from_number="+15035550111"),
        call(sid="d", started_at=evening, from_number="+15035550122"),
    ]
    bookings = [
        booking(uid="by-call", created_at=datetime(2026, 11, 24, 9, 5, tzinfo=local)),
        # The caller of the missed call "d" booked by text the next morning: won back.
        booking(
            uid="by-text",
            source="sms",
            attendee_phone="+15035550122",
            created_at=datetime(2026, 11, 24, 8, 0, tzinfo=local),
        ),
    ]
    daily = build_report(DEMO, "day", date(2026, 11, 23), date(2026, 11, 24), calls, bookings)
    monday, tuesday = daily.rows
    assert (monday.label, monday.calls, monday.after_hours, monday.after_hours_handled) == ("Mon Nov 23", 2, 2, 1)
    assert (monday.missed, monday.recovered) == (1, 1)
    assert (tuesday.calls, tuesday.booked_by_calls, tuesday.bookings, tuesday.conversion) == (2, 1, 2, 0.5)
    assert (tuesday.latency_p50_ms, tuesday.latency_p95_ms) == (800, 1000)
    assert daily.totals.calls == 4 and daily.totals.missed == 2 and daily.totals.recovered == 1
    assert daily.totals.speech_cost_per_call is None
    weekly = build_report(DEMO, "week", date(2026, 11, 16), date(2026, 11, 24), calls, bookings)
    assert [(r.label, r.calls) for r in weekly.rows] == [("wk of Nov 16", 0), ("wk of Nov 23", 4)]


def test_speech_cost_per_call_is_the_mean_over_calls_that_recorded_one() -> None:
    local = DEMO.tz
    morning = datetime(2026, 11, 24, 9, 0, tzinfo=local)
    calls = [
        call(sid="rt1", started_at=morning, speech_engine="realtime", speech_cost_usd=0.02),
        call(sid="rt2", started_at=morning, speech_engine="realtime", speech_cost_usd=0.04),
        call(sid="off", started_at=morning, speech_engine="offline"),  # no cost known: left out, not a zero
    ]
    daily = build_report(DEMO, "day", date(2026, 11, 23), date(2026, 11, 24), calls, [])
    monday, tuesday = daily.rows
    assert monday.speech_cost_per_call is None
    assert tuesday.speech_cost_per_call == pytest.approx(0.03)
    assert daily.totals.speech_cost_per_call == pytest.approx(0.03)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5], 0.95) == 5
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50, 95)


def test_charts_are_svg_with_round_grid_lines_and_escaped_labels() -> None:
    assert [nice_ceiling(v) for v in (0, 0.4, 1, 3, 7, 12, 230, 2600)] == [1, 1, 1, 5, 10, 20, 250, 5000]
    svg = str(bar_chart("Calls <today>", ["Mon <b>", "Tue"], [Series("calls", [3, None]), Series("booked", [1, 2])]))
    assert svg.startswith('<figure class="chart-box">') and "<svg" in svg and "<script" not in svg
    assert "Mon &lt;b&gt;" in svg and "<b>" not in svg and "Calls &lt;today&gt;" in svg
    assert svg.count("<rect") == 3  # the missing value draws no bar
    assert ">4</text>" in svg  # 3 calls at most: grid lines at 0, 1, 2, 3, 4
