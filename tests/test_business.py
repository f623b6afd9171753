from __future__ import annotations

import textwrap
from datetime import time

import pytest

from silentpartner.business import BusinessConfigError, load_businesses, parse_businesses
from silentpartner.settings import load_settings


def test_demo_business_is_exactly_as_documented(demo) -> None:
    assert (demo.slug, demo.name, demo.timezone) == ("mikes-plumbing", "Mike's Plumbing", "America/Los_Angeles")
    assert demo.numbers == ("+15035550100",) and demo.owner_mobile == "+15035550199"
    assert demo.calendar == "local"
    for weekday in range(5):
        (span,) = demo.hours.for_weekday(weekday)
        assert (span.start, span.end_minutes) == (time(8), 17 * 60)
    (sat,) = demo.hours.for_weekday(5)
    assert (sat.start, sat.end_minutes) == (time(9), 13 * 60)
    assert demo.hours.for_weekday(6) == ()

    call, emergency, estimate = demo.services
    assert (call.slug, call.name, call.duration_minutes, call.buffer_after_minutes, call.min_notice_minutes) == (
        "service-call",
        "service call",
        60,
        15,
        120,
    )
    assert (emergency.slug, emergency.name, emergency.duration_minutes, emergency.min_notice_minutes) == (
        "emergency",
        "emergency call-out",
        60,
        0,
    )
    assert emergency.emergency
    for weekday in range(7):
        (span,) = demo.hours_for(emergency).for_weekday(weekday)
        assert (span.start, span.end_minutes) == (time(7), 21 * 60)
    assert (estimate.slug, estimate.name, estimate.duration_minutes, estimate.min_notice_minutes) == (
        "estimate",
        "free estimate",
        30,
        120,
    )

    mike, dana = demo.team
    assert mike.name == "Mike" and all(mike.offers(s.slug) for s in demo.services) and mike.hours is None
    assert dana.name == "Dana" and dana.offers("service-call") and dana.offers("estimate")
    assert not dana.offers("emergency")
    assert [len(dana.hours.for_weekday(d)) for d in range(7)] == [1, 1, 1, 1, 0, 0, 0]
    assert dana.hours.for_weekday(0)[0].end_minutes == 16 * 60


def test_no_file_means_the_demo_business() -> None:
    businesses = load_businesses(load_settings(_env_file=None))
    assert [b.slug for b in businesses] == ["mikes-plumbing"]


GOOD = textwrap.dedent("""\
    [[business]]
    slug = "acme"
    name = "Acme Electric"
    timezone = "America/New_York"
    numbers = ["+12125550100", "+12125550101"]
    owner_mobile = "+12125550199"

    [business.hours]
    mon = ["08:00-12:00", "13:00-17:00"]

    [[business.services]]
    slug = "visit"
    name = "site visit"
    duration_minutes = 45

    [[business]]
    slug = "bobs"
    name = "Bob's HVAC"
    timezone = "America/Chicago"
    numbers = ["+13125550100"]
    owner_mobile = "+13125550199"
    calendar = "calcom"

    [business.hours]
    tue = "09:00-17:00"

    [[business.services]]
    slug = "tune-up"
    name = "tune-up"
    duration_minutes = 60
    calcom_event_type_id = 42
""")


def test_file_with_two_businesses_looks_up_by_number_and_slug() -> None:
    businesses = parse_businesses(GOOD)
    assert len(businesses) == 2
    assert businesses.by_number("+12125550101").slug == "acme"
    assert businesses.by_number("(312) 555-0100").slug == "bobs"
    assert businesses.by_number("+19995550000") is None
    assert businesses.by_slug("bobs").calendar == "calcom"
    assert len(businesses.by_slug("acme").hours.mon) == 2
    with pytest.raises(BusinessConfigError, match="several businesses"):
        businesses.get(None)


@pytest.mark.parametrize(
    ("broken", "line", "field", "message"),
    [
        ('timezone = "America/New_York"', 4, "business.0.timezone", "not an IANA timezone"),
        ('numbers = ["+12125550100", "+12125550101"]', 5, "business.0.numbers", "E.164"),
        ("duration_minutes = 45", 14, "business.0.services.0.duration_minutes", "greater than 0"),
        ('mon = ["08:00-12:00", "13:00-17:00"]', 9, "business.0.hours.mon", "overlap"),
        ("calcom_event_type_id = 42", 21, "business.1", "no calcom_event_type_id"),
    ],
)
def test_a_broken_file_names_the_line_and_field(broken: str, line: int, field: str, message: str) -> None:
    replacement = {
        'timezone = "America/New_York"': 'timezone = "Mars/Olympus"',
        'numbers = ["+12125550100", "+12125550101"]': 'numbers = ["212-555-0100"]',
        "duration_minutes = 45": "duration_minutes = 0",
        'mon = ["08:00-12:00", "13:00-17:00"]': 'mon = ["08:00-12:00", "11:00-17:00"]',
        "calcom_event_type_id = 42": "",
    }[broken]
    text = GOOD.replace(broken, replacement, 1)
    with pytest.raises(BusinessConfigError) as caught:
        parse_businesses(text, "biz.toml")
    error = str(caught.value)
    assert field in error and message in error
    if broken != "calcom_event_type_id = 42":
        assert f"biz.toml:{line}:" in error


def test_unknown_keys_and_bad_toml_are_reported() -> None:
    with pytest.raises(BusinessConfigError, match="Extra inputs are not permitted"):
        parse_businesses(GOOD.replace('slug = "visit"', 'slug = "visit"\ncolour = "red"'))
    with pytest.raises(BusinessConfigError, match="not valid TOML"):
        parse_businesses("[[business]\n")


def test_one_business_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_NAME", "Joe's Drains")
    monkeypatch.setenv("BUSINESS_TIMEZONE", "America/Denver")
    monkeypatch.setenv("BUSINESS_NUMBER", "+17205550100")
    monkeypatch.setenv("OWNER_MOBILE", "+17205550199")
    monkeypatch.setenv("CALCOM_API_KEY", "cal_test")
    monkeypatch.setenv("CALCOM_EVENT_TYPE_IDS", "service-call=101,estimate=102")
    (business,) = load_businesses(load_settings(_env_file=None))
    assert business.slug == "joe-s-drains" and business.timezone == "America/Denver"
    assert business.calendar == "calcom"
    assert {s.slug: s.calcom_event_type_id for s in business.services} == {"service-call": 101, "estimate": 102}


def test_environment_business_needs_its_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_NAME", "Joe's Drains")
    with pytest.raises(BusinessConfigError, match="BUSINESS_NUMBER"):
        load_businesses(load_settings(_env_file=None))
