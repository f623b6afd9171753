"""Who may see what, over real HTTP: the owner token (as a login or a Bearer token), the session cookie, CSRF on
every action, and one business's owner never reaching another's data."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from sqlalchemy import select

from silentpartner.business import demo_businesses, parse_businesses
from silentpartner.dashboard import sessions
from silentpartner.dashboard.owners import OwnerKeys
from silentpartner.settings import Settings
from silentpartner.store import Database, Job
from silentpartner.voice import records, tokens
from tests.conftest import PINNED_NOW
from tests.dashboard.dashboard_app import (
    MIKE_TOKEN,
    MIKE_TOKEN_ENV,
    SPARKS_TOKEN,
    SPARKS_TOKEN_ENV,
    DashboardApp,
    businesses_toml,
    run_async,
)

API_PATHS = ("/api/bookings", "/api/calls", "/api/messages", "/api/reports", "/openapi.json", "/dashboard/events")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(client: httpx.Client, token: str) -> str:
    """Log in through the form as a browser would; the session cookie's value. (httpx keeps no Secure cookie
    over plain http, so the cookies are carried by hand.)"""
    page = client.get("/dashboard/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/dashboard/login",
        data={"token": token, "nonce": nonce, "next": "/dashboard/calls"},
        headers={"Cookie": f"{sessions.LOGIN_COOKIE}={page.cookies[sessions.LOGIN_COOKIE]}"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/calls"
    return answer.cookies[sessions.SESSION_COOKIE]


def with_session(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{sessions.SESSION_COOKIE}={cookie}"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_nothing_answers_without_a_login(served: DashboardApp) -> None:
    with httpx.Client(base_url=served.url) as client:
        for path in API_PATHS:
            answer = client.get(path)
            assert answer.status_code == 401, path
            assert answer.headers["www-authenticate"] == "Bearer"
        for path in ("/dashboard/", "/dashboard/calls", f"/dashboard/calls/{served.seeded.calls['booked']}"):
            answer = client.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/dashboard/login?next=")
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/dashboard/assets/phone.js").status_code == 401
        assert client.get("/dashboard/assets/dashboard.css").status_code == 200


def test_a_wrong_or_malformed_token_is_refused(served: DashboardApp) -> None:
    with httpx.Client(base_url=served.url) as client:
        for header in (f"Bearer {MIKE_TOKEN}x", f"Bearer {MIKE_TOKEN[:-1]}", f"Basic {MIKE_TOKEN}", "Bearer", ""):
            assert client.get("/api/calls", headers={"Authorization": header}).status_code == 401, header
        forged = f"mikes-plumbing.{int(PINNED_NOW.timestamp()) + 3600}.{'A' * 24}.{'B' * 43}"
        assert client.get("/api/calls", headers=with_session(forged)).status_code == 401


def test_the_api_answers_the_owner_with_their_own_data_only(served: DashboardApp) -> None:
    seeded = served.seeded
    with httpx.Client(base_url=served.url) as client:
        bookings = client.get("/api/bookings", headers=bearer(MIKE_TOKEN)).json()
        assert {b["customer"] for b in bookings} >= {"Jordan Smith", "Maria Lopez"}
        assert "Ellen Ripley" not in {b["customer"] for b in bookings}
        calls = client.get("/api/calls", headers=bearer(MIKE_TOKEN)).json()
        assert {c["id"] for c in calls} == {seeded.calls["booked"], seeded.calls["missed"]}
        booked = client.get(f"/api/calls/{seeded.calls['booked']}", headers=bearer(MIKE_TOKEN)).json()
        assert booked["category"] == "booked"
        assert booked["booking"]["customer"] == "Jordan Smith"
        assert [t["latency_ms"] for t in booked["transcript"]] == [None, None, 820, None, 910, None, 760]
        assert booked["summary"].startswith("Jordan Smith, (503) 555-0123, about: kitchen faucet is leaking")
        missed = client.get("/api/calls", params={"outcome": "missed"}, headers=bearer(MIKE_TOKEN)).json()
        assert [c["id"] for c in missed] == [seeded.calls["missed"]]
        # The other business's call is not found, whichever way its owner asks, and theirs answers them.
        sparks_call = f"/api/calls/{seeded.calls['sparks']}"
        assert client.get(sparks_call, headers=bearer(MIKE_TOKEN)).status_code == 404
        assert client.get(sparks_call, headers=bearer(SPARKS_TOKEN)).json()["caller_name"] == "Ellen Ripley"
        assert client.get(f"/api/calls/{seeded.calls['booked']}", headers=bearer(SPARKS_TOKEN)).status_code == 404
        threads = client.get("/api/messages", headers=bearer(SPARKS_TOKEN)).json()
        assert threads == []
        report = client.get("/api/reports", params={"period": "week"}, headers=bearer(MIKE_TOKEN)).json()
        assert report["totals"]["calls"] == 2 and report["totals"]["booked_by_calls"] == 1
        assert report["totals"]["speech_cost_per_call"] is None


def test_the_openapi_document_is_behind_the_login_and_lists_the_api(served: DashboardApp) -> None:
    with httpx.Client(base_url=served.url) as client:
        document = client.get("/openapi.json", headers=bearer(SPARKS_TOKEN)).json()
    assert {"/api/bookings", "/api/calls", "/api/calls/{call_id}", "/api/messages", "/api/reports"} <= set(
        document["paths"]
    )
    assert not any(path.startswith("/dashboard") for path in document["paths"])


def test_a_session_pages_and_actions_need_their_csrf_token(served: DashboardApp) -> None:
    uid = served.seeded.bookings["Maria Lopez"]
    with httpx.Client(base_url=served.url) as client:
        cookie = log_in(client, MIKE_TOKEN)
        page = client.get("/dashboard/", headers=with_session(cookie))
        assert page.status_code == 200 and "Maria Lopez" in page.text and "Ellen Ripley" not in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        # The same session reads the API.
        assert client.get("/api/calls", headers=with_session(cookie)).status_code == 200
        # No CSRF token, a wrong one, or another session's: refused, and nothing changed.
        other = log_in(client, MIKE_TOKEN)
        other_csrf = csrf_of(client.get("/dashboard/", headers=with_session(other)).text)
        for data in ({}, {"csrf": "x" * 43}, {"csrf": other_csrf}):
            refused = client.post(f"/dashboard/bookings/{uid}/cancel", data=data, headers=with_session(cookie))
            assert refused.status_code == 403, data
        # A cross-site form has no session cookie at all (SameSite): refused too.
        assert client.post(f"/dashboard/bookings/{uid}/cancel", data={"csrf": other_csrf}).status_code == 403
        bookings = client.get("/api/bookings", headers=with_session(cookie)).json()
        assert uid in {b["uid"] for b in bookings}


def test_another_business_booking_cannot_be_changed(served: DashboardApp) -> None:
    ellen = served.seeded.bookings["Ellen Ripley"]
    with httpx.Client(base_url=served.url) as client:
        cookie = log_in(client, MIKE_TOKEN)
        csrf = csrf_of(client.get("/dashboard/", headers=with_session(cookie)).text)
        for path in (f"/dashboard/bookings/{ellen}/cancel", f"/dashboard/bookings/{ellen}/reschedule"):
            answer = client.post(
                path, data={"csrf": csrf, "start": "2026-11-26T10:00:00-07:00"}, headers=with_session(cookie)
            )
            assert answer.status_code == 404, path
        assert client.get(f"/dashboard/bookings/{ellen}/reschedule", headers=with_session(cookie)).status_code == 404
        assert (
            client.get(f"/dashboard/calls/{served.seeded.calls['sparks']}", headers=with_session(cookie)).status_code
            == 404
        )
        theirs = client.get("/api/bookings", headers=bearer(SPARKS_TOKEN)).json()
    assert [(b["uid"], b["status"]) for b in theirs] == [(ellen, "accepted")]


def test_login_refuses_a_wrong_token_and_a_forged_form(served: DashboardApp) -> None:
    with httpx.Client(base_url=served.url) as client:
        page = client.get("/dashboard/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        login_cookie = {"Cookie": f"{sessions.LOGIN_COOKIE}={page.cookies[sessions.LOGIN_COOKIE]}"}
        wrong = client.post(
            "/dashboard/login", data={"token": "not-the-token-at-all", "nonce": nonce}, headers=login_cookie
        )
        assert wrong.status_code == 401 and sessions.SESSION_COOKIE not in wrong.cookies
        # A login form posted from elsewhere carries no matching login cookie: refused even with the right token.
        forged = client.post("/dashboard/login", data={"token": MIKE_TOKEN, "nonce": nonce})
        assert forged.status_code == 403 and sessions.SESSION_COOKIE not in forged.cookies
        # A login link cannot send the owner off the dashboard.
        page = client.get("/dashboard/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = client.post(
            "/dashboard/login",
            data={"token": MIKE_TOKEN, "nonce": nonce, "next": "//evil.example/"},
            headers={"Cookie": f"{sessions.LOGIN_COOKIE}={page.cookies[sessions.LOGIN_COOKIE]}"},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/"
        cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.SESSION_COOKIE}=")
    assert {"HttpOnly", "Secure", "SameSite=lax", "Path=/"} <= {part.strip() for part in cookie.split(";")}


def test_a_session_expires_and_a_tampered_one_is_refused() -> None:
    businesses = parse_businesses(businesses_toml())
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    keys = OwnerKeys.resolve(businesses, settings, {MIKE_TOKEN_ENV: MIKE_TOKEN, SPARKS_TOKEN_ENV: SPARKS_TOKEN})
    cookie, session = sessions.issue(keys.for_business("mikes-plumbing"), PINNED_NOW)  # type: ignore[arg-type]
    assert sessions.read(keys, cookie, PINNED_NOW) == session
    assert sessions.read(keys, cookie, session.expires_at) is None
    _slug, rest = cookie.split(".", 1)
    assert sessions.read(keys, f"sparks-electric.{rest}", PINNED_NOW) is None  # signed for another business
    longer = cookie.replace(f".{int(session.expires_at.timestamp())}.", f".{int(session.expires_at.timestamp()) + 9}.")
    assert sessions.read(keys, longer, PINNED_NOW) is None
    # A new owner token ends the sessions made with the old one.
    renewed = OwnerKeys.resolve(
        businesses, settings, {MIKE_TOKEN_ENV: MIKE_TOKEN + "2", SPARKS_TOKEN_ENV: SPARKS_TOKEN}
    )
    assert sessions.read(renewed, cookie, PINNED_NOW) is None


def test_a_business_without_a_usable_token_is_locked_out_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    businesses = parse_businesses(businesses_toml())
    settings = Settings(dashboard_token="a-token-for-no-one-0123456789", _env_file=None)  # type: ignore[call-arg]
    keys = OwnerKeys.resolve(businesses, settings, {SPARKS_TOKEN_ENV: "short"})
    assert keys.keys == {}
    assert set(keys.locked) == {"mikes-plumbing", "sparks-electric"}
    with caplog.at_level(logging.WARNING, logger="silentpartner.dashboard.owners"):
        keys.log_locked()
    lines = [f"{r.getMessage()} {r.fields}" for r in caplog.records]  # type: ignore[attr-defined]
    assert len(lines) == 2
    assert any(MIKE_TOKEN_ENV in line and "not set" in line for line in lines)
    assert any(SPARKS_TOKEN_ENV in line and "shorter than 16" in line for line in lines)
    assert keys.by_token("short") is None
    # Two businesses with one token: neither may use it.
    same = OwnerKeys.resolve(businesses, settings, {MIKE_TOKEN_ENV: MIKE_TOKEN, SPARKS_TOKEN_ENV: MIKE_TOKEN})
    assert same.keys == {} and "same as" in same.locked["mikes-plumbing"]


def test_dashboard_token_is_the_lone_business_token() -> None:
    demo = demo_businesses()
    missing = OwnerKeys.resolve(demo, Settings(_env_file=None), {})  # type: ignore[call-arg]
    assert missing.keys == {} and "DASHBOARD_TOKEN" in missing.locked["mikes-plumbing"]
    settings = Settings(dashboard_token="demo-dashboard-token-0123456789", _env_file=None)  # type: ignore[call-arg]
    keys = OwnerKeys.resolve(demo, settings, {})
    assert keys.by_token("demo-dashboard-token-0123456789").business.slug == "mikes-plumbing"  # type: ignore[union-attr]
    # With several businesses, DASHBOARD_TOKEN opens none of them: each names its own variable.
    several = OwnerKeys.resolve(
        parse_businesses(businesses_toml().replace(f'owner_token_env = "{MIKE_TOKEN_ENV}"\n', "")), settings, {}
    )
    assert several.by_token("demo-dashboard-token-0123456789") is None
    assert "owner_token_env" in several.locked["mikes-plumbing"]


def test_hostile_input_is_a_plain_refusal(served: DashboardApp) -> None:
    uid = served.seeded.bookings["Maria Lopez"]
    with httpx.Client(base_url=served.url) as client:
        assert client.post("/dashboard/login", files={"token": ("token.txt", b"x")}).status_code == 400
        cookie = log_in(client, MIKE_TOKEN)
        session = with_session(cookie)
        for path in ("/dashboard/calls/99999999999999999999", "/api/calls/99999999999999999999", "/api/calls/0"):
            assert client.get(path, headers=session).status_code == 422, path
        assert client.get("/dashboard/bookings/" + "x" * 300 + "/reschedule", headers=session).status_code == 404
        assert client.get("/api/calls", params={"outcome": "<b>"}, headers=session).status_code == 422
        page = client.get("/dashboard/calls", params={"outcome": "<b>x</b>"}, headers=session)
        assert page.status_code == 200 and "<b>x</b>" not in page.text
        csrf = csrf_of(client.get("/dashboard/", headers=session).text)
        fields = {f"field{i}": "x" for i in range(50)}
        assert client.post(f"/dashboard/bookings/{uid}/cancel", data=fields, headers=session).status_code == 400
        for start, status in (
            ("", 400),
            ("tomorrow", 400),
            ("2026-11-25T13:00:00", 400),
            ("2026-11-25T03:00:00-08:00", 409),
        ):
            answer = client.post(
                f"/dashboard/bookings/{uid}/reschedule", data={"csrf": csrf, "start": start}, headers=session
            )
            assert answer.status_code == status, start
        (maria,) = [b for b in client.get("/api/bookings", headers=session).json() if b["uid"] == uid]
    assert maria["start"] == "2026-11-25T09:00:00-08:00"  # unmoved


def test_the_browser_phone_opens_a_call_with_a_one_time_media_token(served: DashboardApp) -> None:
    """Last in this module: opening a call starts the speech models loading in the background."""
    with httpx.Client(base_url=served.url) as client:
        cookie = log_in(client, MIKE_TOKEN)
        page = client.get("/dashboard/phone", headers=with_session(cookie))
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert client.post("/dashboard/phone/calls", headers=with_session(cookie)).status_code == 403
        opened = client.post("/dashboard/phone/calls", headers={**with_session(cookie), "X-CSRF-Token": csrf})
        assert opened.status_code == 200 and opened.headers["cache-control"] == "no-store"
        call = opened.json()
        assert call["media_path"] == "/twilio/media" and re.fullmatch(r"BR[0-9a-f]{32}", call["call_sid"])
        detail = client.get(f"/api/calls/{call['call_id']}", headers=bearer(MIKE_TOKEN)).json()
        assert (detail["channel"], detail["caller_number"], detail["category"]) == ("browser", None, "live")
        assert client.get(f"/api/calls/{call['call_id']}", headers=bearer(SPARKS_TOKEN)).status_code == 404

    async def redeem_twice() -> list[bool]:
        db = Database(served.settings.database_url)
        try:
            return [await tokens.redeem(db, call["call_sid"], call["token"], now=PINNED_NOW) for _ in range(2)]
        finally:
            await db.close()

    assert run_async(redeem_twice()) == [True, False]


async def test_a_browser_call_that_came_to_nothing_texts_no_one(sqlite_db: Database) -> None:
    await records.open_call(
        sqlite_db,
        sid="BR" + "0" * 32,
        business="mikes-plumbing",
        from_number=None,
        to_number="+15035550100",
        forwarded_from=None,
        is_owner=False,
        channel="browser",
        now=PINNED_NOW,
    )
    assert await records.settle(sqlite_db, "BR" + "0" * 32, now=PINNED_NOW, reason="socket closed") is False
    async with sqlite_db.session() as session:
        assert list(await session.scalars(select(Job))) == []
