"""The dashboard in a real headless Chromium against the app under uvicorn: logging in, the day's bookings, a
call's transcript and summary, cancelling and moving a booking (and the customer's text reaching the local Twilio
API), refusals, and changes showing up live. One server and one browser for the module; a fresh browser context
(cookies) per test. Screenshots go to each test's temporary folder."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from silentpartner.dashboard.assets import _read as read_asset
from silentpartner.voice.audio import ULAW_DECODE, ULAW_ENCODE
from tests.dashboard.dashboard_app import (
    JORDAN,
    MARIA,
    MIKE_NUMBER,
    MIKE_TOKEN,
    PUBLIC_URL,
    DashboardApp,
    run_async,
)
from tests.support.browser import chromium, chromium_unavailable_reason
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_AUTH_TOKEN

_why = chromium_unavailable_reason()
pytestmark = pytest.mark.skipif(_why is not None, reason=f"browser tests skipped: {_why}")

PHONE_SCREEN = {"width": 390, "height": 844}
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, served: DashboardApp) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE_SCREEN, base_url=served.url)
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()  # closes its live streams too, so the server can stop


def log_in(page: Any, token: str = MIKE_TOKEN, path: str = "/dashboard/") -> None:
    page.goto(path)
    assert "/dashboard/login" in page.url
    page.fill("#token", token)
    page.click("form[action='/dashboard/login'] button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + r"$"))


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_phone_pages_mu_law_matches_the_servers(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.add_script_tag(content=read_asset("phone-worklet.js").decode())
        # Both tables as base64 of their bytes: one short string each way rather than 65,536 numbers.
        encoded = page.evaluate(
            """() => {
                const codes = Uint8Array.from({length: 65536}, (_, i) => linearToUlaw(i - 32768));
                return btoa(Array.from(codes, (c) => String.fromCharCode(c)).join(""));
            }"""
        )
        decoded = page.evaluate(
            """() => {
                const samples = Int16Array.from({length: 256}, (_, i) => ulawToLinear(i));
                return btoa(Array.from(new Uint8Array(samples.buffer), (c) => String.fromCharCode(c)).join(""));
            }"""
        )
    finally:
        page.close()
    assert np.array_equal(np.frombuffer(base64.b64decode(encoded), dtype=np.uint8), ULAW_ENCODE)
    assert np.array_equal(np.frombuffer(base64.b64decode(decoded), dtype="<i2"), ULAW_DECODE)


def test_without_the_token_nothing_is_shown(page: Any, tmp_path: Path) -> None:
    page.goto("/dashboard/")
    assert "/dashboard/login" in page.url
    page.fill("#token", "not-the-owner-token-at-all")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That token is not right."
    shot(page, tmp_path, "refused")
    assert "Jordan Smith" not in page.content()
    answer = page.request.get("/api/calls")
    assert answer.status == 401


def test_the_owner_sees_the_days_bookings_and_a_calls_transcript(
    page: Any, served: DashboardApp, tmp_path: Path
) -> None:
    log_in(page)
    jordan = page.locator("article.booking", has_text="Jordan Smith")
    assert "2 PM–3 PM" in jordan.inner_text()
    assert "1234 Oak Street" in jordan.inner_text() and "kitchen faucet is leaking" in jordan.inner_text()
    assert "phone call" in jordan.inner_text()
    assert page.locator("article.booking", has_text="Maria Lopez").count() == 1
    assert "Ellen Ripley" not in page.content()  # the other business's customer
    shot(page, tmp_path, "today")

    jordan.get_by_role("link", name="phone call").click()
    page.wait_for_url(re.compile(rf"/dashboard/calls/{served.seeded.calls['booked']}$"))
    summary = page.locator("#summary").inner_text()
    assert summary == (
        "Jordan Smith, (503) 555-0123, about: kitchen faucet is leaking, at 1234 Oak Street. "
        "Booked: service call Tue Nov 24 at 2:00 PM with Dana. Nothing to do until the visit."
    )
    turns = page.locator("ol.transcript li")
    assert turns.count() == 7
    assert turns.nth(1).locator("p").inner_text() == "My kitchen faucet is leaking."
    assert turns.nth(1).locator(".who").inner_text() == "CALLER"
    assert "answered in 820 ms" in turns.nth(2).inner_text()
    assert page.locator("audio").count() == 0  # no recording kept
    shot(page, tmp_path, "call")

    page.goto("/dashboard/calls?outcome=missed")
    cards = page.locator("li.call")
    assert cards.count() == 1 and "We texted them back" in cards.inner_text()
    page.goto("/dashboard/messages")
    thread = page.locator("details.thread", has_text="opted out (STOP)")
    thread.locator("summary").click()
    assert "blocked" in thread.inner_text()
    page.goto("/dashboard/reports?period=week")
    assert page.locator("svg.chart").count() == 3
    shot(page, tmp_path, "reports")


def test_another_business_call_is_not_found(page: Any, served: DashboardApp, tmp_path: Path) -> None:
    log_in(page)
    answer = page.goto(f"/dashboard/calls/{served.seeded.calls['sparks']}")
    assert answer.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "Ellen" not in page.content()
    assert page.request.get(f"/api/calls/{served.seeded.calls['sparks']}").status == 404
    shot(page, tmp_path, "not-found")


def test_a_post_without_the_csrf_token_is_refused(page: Any, served: DashboardApp) -> None:
    log_in(page)
    uid = served.seeded.bookings["Maria Lopez"]
    status = page.evaluate(
        "uid => fetch(`/dashboard/bookings/${uid}/cancel`, {method: 'POST'}).then(r => r.status)", uid
    )
    assert status == 403
    page.reload()
    assert page.locator("article.booking", has_text="Maria Lopez").count() == 1


def test_cancelling_a_booking_removes_it_and_texts_the_customer(
    page: Any, served: DashboardApp, tmp_path: Path
) -> None:
    log_in(page)
    card = page.locator("article.booking", has_text="Jordan Smith")
    card.locator("summary", has_text="Cancel").click()
    shot(page, tmp_path, "cancel-confirm")
    card.get_by_role("button", name="Yes, cancel it").click()
    page.wait_for_url(re.compile(r"/dashboard/\?notice=cancelled$"))
    assert page.locator("[role=status]").inner_text() == "Cancelled. The customer has been texted."
    assert page.locator("article.booking", has_text="Jordan Smith").count() == 0
    shot(page, tmp_path, "cancelled")
    (text,) = served.twilio.wait_for_messages(1, to=JORDAN)
    assert text.body == (
        "Your Tue Nov 24 at 2:00 PM visit with Mike's Plumbing is cancelled. Reply here any time to book again."
    )
    assert text.from_ == MIKE_NUMBER


def test_a_change_elsewhere_shows_without_reloading(page: Any, served: DashboardApp, tmp_path: Path) -> None:
    log_in(page)
    page.locator("body[data-live=on]").wait_for(state="attached")
    page.evaluate("window.notReloaded = true")
    maria = page.locator("article.booking", has_text="Maria Lopez")
    assert maria.locator(".when").inner_text() == "9 AM–10 AM"

    # The owner moves Maria's visit from another tab.
    other = page.context.new_page()
    other.goto("/dashboard/")
    other.locator("article.booking", has_text="Maria Lopez").get_by_role("link", name="Reschedule").click()
    other.get_by_role("button", name="1 PM", exact=True).click()
    other.wait_for_url(re.compile(r"/dashboard/\?notice=moved$"))
    other.close()

    maria.locator(".when", has_text="1 PM–2 PM").wait_for()
    assert page.evaluate("window.notReloaded") is True
    shot(page, tmp_path, "moved-live")
    (text,) = served.twilio.wait_for_messages(1, to=MARIA)
    assert text.body == (
        "Your visit with Mike's Plumbing is moved to Wed Nov 25 at 1:00 PM, 17 Maple Avenue. "
        "Reply C to cancel or R to reschedule."
    )

    # A new call on the line appears on the open calls page.
    page.goto("/dashboard/calls")
    page.locator("body[data-live=on]").wait_for(state="attached")
    page.evaluate("window.notReloaded = true")
    sim = TwilioCallerSim(served.url, public_url=PUBLIC_URL, auth_token=TEST_AUTH_TOKEN)
    placed = run_async(sim.place_call(from_="+15035550166", to=MIKE_NUMBER))
    assert placed.status_code == 200
    page.locator("li.call", has_text="(503) 555-0166").wait_for()
    assert page.evaluate("window.notReloaded") is True
