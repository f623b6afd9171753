"""The voice webhooks through a real uvicorn: signatures, TwiML, tokens, apologies, status callbacks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from silentpartner.app import create_app
from silentpartner.settings import Settings
from silentpartner.store.models import MediaToken
from silentpartner.voice import tokens
from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.support.servers import LiveServer
from tests.support.twilio_caller import TwilioCallerSim
from tests.support.twilio_signing import TEST_AUTH_TOKEN, twilio_signature
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, OWNER, PUBLIC_URL, voice_app

_speech_ok, _speech_why = OfflineSpeech.available()
# Without the speech engine the product is unhealthy and answers with the apology instead of a stream.
needs_speech = pytest.mark.skipif(not _speech_ok, reason=f"offline speech unavailable: {_speech_why}")


@pytest.mark.speech
@needs_speech
async def test_a_signed_call_is_answered_with_a_stream_and_a_one_time_token(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER, forwarded_from="+15035559999")
        assert placed.status_code == 200
        root = ET.fromstring(placed.twiml)
        assert [child.tag for child in root] == ["Connect"]
        assert placed.connect_action == PUBLIC_URL + "/twilio/voice-after"
        assert placed.stream_url == "wss://voice.silentpartner.test/twilio/media"
        assert placed.status_callback == PUBLIC_URL + "/twilio/stream-status"
        assert set(placed.parameters) == {"token", "call_sid"}
        assert placed.parameters["call_sid"] == placed.call_sid
        assert len(placed.parameters["token"]) >= 32

        record = await app.call_record(placed.call_sid)
        assert record is not None
        assert (record.business, record.from_number, record.to_number) == ("mikes-plumbing", CALLER, BUSINESS_NUMBER)
        assert record.forwarded_from == "+15035559999"
        assert record.is_owner is False
        # Only the token's hash is stored, tied to the call.
        db = app.db()
        async with db.session() as session:
            rows = list(await session.scalars(select(MediaToken)))
        await db.close()
        assert [(r.call_sid, r.token_hash) for r in rows] == [
            (placed.call_sid, tokens.hash_token(placed.parameters["token"]))
        ]
        assert placed.parameters["token"] not in {r.token_hash for r in rows}


async def test_the_owner_calling_is_recognised(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=OWNER, to=BUSINESS_NUMBER)
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.is_owner is True


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/status", "/twilio/stream-status", "/twilio/voice-after"])
async def test_a_forged_signature_gets_403(sqlite_url: str, path: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        params = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": BUSINESS_NUMBER, "CallStatus": "ringing"}
        forged = await app.sim.post(path, params, signature="bm90IGEgc2lnbmF0dXJl")
        assert forged.status_code == 403
        unsigned = await app.sim.post(path, params, signature="")
        assert unsigned.status_code == 403
        # A genuine signature does not carry over to changed fields.
        genuine = twilio_signature(TEST_AUTH_TOKEN, PUBLIC_URL + path, params)
        tampered = await app.sim.post(path, {**params, "From": "+15035550000"}, signature=genuine)
        assert tampered.status_code == 403
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(
            from_=CALLER, to=BUSINESS_NUMBER, signature="c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ=="
        )
        assert placed.status_code == 403
        assert await app.call_record(placed.call_sid) is None


async def test_an_unknown_number_gets_a_spoken_apology_not_a_dead_line(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to="+15035550111")
        assert placed.status_code == 200
        root = ET.fromstring(placed.twiml)
        assert [child.tag for child in root] == ["Say", "Pause", "Hangup"]
        assert "sorry" in placed.says[0].lower()
        assert placed.stream_url is None


async def test_an_unhealthy_product_apologises_and_queues_a_text_back(sqlite_url: str) -> None:
    # No calendar component: the business has no calendar to book on, so the call can't be served.
    with voice_app(sqlite_url, PINNED_NOW, components=lambda: []) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        assert [child.tag for child in ET.fromstring(placed.twiml)] == ["Say", "Pause", "Hangup"]
        assert "text" in placed.says[0].lower()
        textbacks = await app.jobs("textback")
        assert [job.payload for job in textbacks] == [{"call_sid": placed.call_sid}]
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.textback_queued


async def test_a_call_that_ended_with_nothing_done_is_texted_back_once(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        assert (await app.sim.stream_status(placed.call_sid, "MZ" + "2" * 32, "stream-stopped")).status_code == 204
        assert (await app.sim.status_callback(placed.call_sid, "completed", 14)).status_code == 204
        assert (await app.sim.status_callback(placed.call_sid, "completed", 14)).status_code == 204
        record = await app.call_record(placed.call_sid)
        assert record is not None
        assert (record.status, record.duration_seconds, record.textback_queued) == ("completed", 14, True)
        assert record.ended_at is not None
        assert [job.payload for job in await app.jobs("textback")] == [{"call_sid": placed.call_sid}]


@pytest.mark.speech
@needs_speech
async def test_unsigned_calls_are_accepted_only_when_allowed_on_a_loopback_url(sqlite_url: str) -> None:
    local = "http://127.0.0.1:8000"
    allowed = Settings(database_url=sqlite_url, public_url=local, twilio_allow_unsigned=True, _env_file=None)  # type: ignore[call-arg]
    with LiveServer(create_app(allowed)) as server:
        sim = TwilioCallerSim(server.url, public_url=local, auth_token=None)
        placed = await sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        assert placed.status_code == 200
        assert placed.stream_url == "ws://127.0.0.1:8000/twilio/media"
    # The same machine without the switch: no token, so nothing to check a signature against: refused.
    refused = Settings(database_url=sqlite_url, public_url=local, _env_file=None)  # type: ignore[call-arg]
    with LiveServer(create_app(refused)) as server:
        sim = TwilioCallerSim(server.url, public_url=local, auth_token=None)
        placed = await sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        assert placed.status_code == 403 and placed.stream_url is None


async def test_signed_status_callbacks_with_odd_values_are_answered_and_not_stored(db_url: str) -> None:
    """`"²".isdigit()` is true, PostgreSQL's integer stops at 2**31 - 1 and its varchar(32) at 32
    characters: a signed callback carrying any of these used to be a 500."""
    odd = [
        {"CallStatus": "completed", "CallDuration": "²"},
        {"CallStatus": "completed", "CallDuration": "99999999999"},
        {"CallStatus": "completed", "CallDuration": "-5"},
        {"CallStatus": "completed", "CallDuration": "1_0"},
        {"CallStatus": "completed-" + "x" * 64, "CallDuration": "12"},
    ]
    with voice_app(db_url, PINNED_NOW) as app:
        for values in odd:
            placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
            response = await app.sim.post("/twilio/status", {"CallSid": placed.call_sid, **values})
            assert response.status_code == 204, values
            record = await app.call_record(placed.call_sid)
            assert record is not None and record.duration_seconds is None, values
            assert record.status in ("completed", "ringing", "unavailable"), values
        bad_sid = await app.sim.post("/twilio/status", {"CallSid": "CA\u0000" + "x" * 80, "CallStatus": "completed"})
        assert bad_sid.status_code == 204
