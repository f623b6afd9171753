"""Warm transfer through a real uvicorn: the REST update the local Twilio API receives, the whisper the
owner hears, and what happens when the Dial ends (Twilio's requests are played, signed, by the sim)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from silentpartner.business import demo_businesses
from silentpartner.settings import Settings
from silentpartner.voice import warm_transfer
from silentpartner.voice.control import TwilioCallControl
from tests.conftest import PINNED_NOW
from tests.support.twilio_caller import DialedNumber, PlacedCall, new_sid
from tests.support.twilio_signing import TEST_AUTH_TOKEN, twilio_signature
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, OWNER, PUBLIC_URL, VoiceApp, voice_app

SUMMARY = "Jordan Smith has water coming through the kitchen ceiling and wants someone out today."


async def _transfer(app: VoiceApp, placed: PlacedCall, summary: str = SUMMARY) -> DialedNumber:
    """What the live call does once the announcement has played: update the call over the REST API."""
    control = TwilioCallControl(app.settings)
    try:
        ok = await control.transfer(placed.call_sid, OWNER, caller_id=BUSINESS_NUMBER, summary=summary)
    finally:
        await control.close()
    assert ok
    update = app.twilio.wait_for_call_update(placed.call_sid).updates[-1]
    assert set(update) == {"Twiml"}
    return DialedNumber.from_twiml(update["Twiml"])


def _says(response_text: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(response_text).iter("Say")]


# -- the pure parts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "bridged", "outcome"),
    [
        ("completed", "true", "connected"),
        ("completed", None, "connected"),
        ("completed", "false", "declined"),
        ("no-answer", "false", "no-answer"),
        ("busy", "false", "busy"),
        ("failed", "false", "failed"),
        ("canceled", "false", "canceled"),
        ("", None, "failed"),
        ("something-new", None, "failed"),
    ],
)
def test_dial_status_becomes_an_outcome(status: str, bridged: str | None, outcome: str) -> None:
    assert warm_transfer.dial_outcome(status, bridged) == outcome


def test_an_empty_summary_falls_back_to_the_caller_id() -> None:
    assert warm_transfer.owner_summary("", "+15035550123") == "A caller at (503) 555-0123 asked to speak with you."
    assert warm_transfer.owner_summary("  ", None) == "A caller with a withheld number asked to speak with you."
    assert warm_transfer.owner_summary(" Pat  wants\na quote. ", "+15035550123") == "Pat wants a quote."


def test_a_long_summary_is_cut_at_a_word_and_the_dial_stays_under_twilios_limit() -> None:
    settings = Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]
    words = "the water heater in the basement is leaking again " * 20
    cut = warm_transfer.clean_summary(words)
    assert len(cut) <= warm_transfer.MAX_SUMMARY_CHARS and cut.endswith("…")
    assert words.startswith(cut[:-1]) and cut[-2] != " "
    # Percent-encoded non-ASCII text grows ninefold; the summary is shortened until the document fits.
    document = warm_transfer.dial_twiml(settings, number=OWNER, caller_id=BUSINESS_NUMBER, summary="水漏れ " * 100)
    assert len(document) <= warm_transfer.MAX_TWIML_CHARS
    whisper = DialedNumber.from_twiml(document).whisper_url
    assert whisper is not None and parse_qs(urlsplit(whisper).query)["summary"][0].startswith("水漏れ")


# -- over HTTP ---------------------------------------------------------------------------------------


async def test_the_transfer_dials_the_owner_with_a_whisper_and_an_action(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        assert (dial.number, dial.caller_id, dial.timeout) == (OWNER, BUSINESS_NUMBER, str(warm_transfer.RING_S))
        assert dial.answer_on_bridge == "true"
        assert dial.whisper_url is not None and dial.action is not None
        whisper, action = urlsplit(dial.whisper_url), urlsplit(dial.action)
        assert f"{whisper.scheme}://{whisper.netloc}{whisper.path}" == PUBLIC_URL + "/twilio/transfer/whisper"
        assert f"{action.scheme}://{action.netloc}{action.path}" == PUBLIC_URL + "/twilio/transfer/ended"
        assert parse_qs(whisper.query) == {"summary": [SUMMARY]}
        assert parse_qs(action.query) == {"summary": [SUMMARY], "to": [OWNER]}


async def test_the_owner_hears_the_summary_and_a_key_puts_the_caller_through(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        child = new_sid("CA")
        answered = await app.sim.dial_answered(placed.call_sid, dial, child)
        assert answered.status_code == 200
        root = ET.fromstring(answered.text)
        assert [el.tag for el in root] == ["Gather", "Hangup"]
        gather = root[0]
        assert gather.get("numDigits") == "1"
        assert gather.get("action") == dial.whisper_url  # the key comes back to the same signed URL
        (said,) = _says(answered.text)
        assert SUMMARY in said and "press any key" in said.lower()

        assert gather.get("action") is not None
        pressed = await app.sim.post_url(
            gather.get("action", ""), {**app.sim.dialled_leg(placed.call_sid, dial, child), "Digits": "1"}
        )
        assert pressed.status_code == 200
        assert list(ET.fromstring(pressed.text)) == []  # nothing left to play: the parties are bridged


async def test_the_transfer_routes_refuse_forged_and_tampered_requests(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        assert dial.whisper_url is not None and dial.action is not None
        leg = app.sim.dialled_leg(placed.call_sid, dial, new_sid("CA"))
        ended = {"CallSid": placed.call_sid, "From": CALLER, "To": BUSINESS_NUMBER, "DialCallStatus": "no-answer"}
        for url, params in ((dial.whisper_url, leg), (dial.action, ended)):
            assert (await app.sim.post_url(url, params, signature="")).status_code == 403
            assert (await app.sim.post_url(url, params, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
            # The query string is signed: a genuine signature does not carry over to another summary.
            genuine = twilio_signature(TEST_AUTH_TOKEN, url, params)
            forged_url = url.replace("summary=", "summary=Call%20this%20number%20instead.%20", 1)
            assert (await app.sim.post_url(forged_url, params, signature=genuine)).status_code == 403
        assert await app.jobs("sms") == []
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.transfer_outcome is None


async def test_no_answer_texts_the_owner_and_tells_the_caller(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        for _ in range(2):  # Twilio retries an action request it timed out on: one text, not two
            ended = await app.sim.dial_ended(
                placed, CALLER, BUSINESS_NUMBER, dial, status="no-answer", bridged=False, seconds=0
            )
            assert ended.status_code == 200
            assert [el.tag for el in ET.fromstring(ended.text)] == ["Say", "Pause", "Hangup"]
            (said,) = _says(ended.text)
            assert "Mike couldn't pick up" in said and "call you back" in said

        sms = await app.jobs("sms")
        assert [job.payload for job in sms] == [
            {
                "business": "mikes-plumbing",
                "to": OWNER,
                "body": f"Missed transfer: {SUMMARY} Call them back at (503) 555-0123.",
                "kind": "owner_callback",
                "call_sid": placed.call_sid,
            }
        ]
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.transfer_outcome == "no-answer"


@pytest.mark.parametrize(("status", "outcome"), [("busy", "busy"), ("completed", "declined")])
async def test_busy_or_an_unaccepted_whisper_texts_the_owner(sqlite_url: str, status: str, outcome: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        ended = await app.sim.dial_ended(placed, CALLER, BUSINESS_NUMBER, dial, status=status, bridged=False, seconds=9)
        assert "call you back" in _says(ended.text)[0]
        assert [job.payload["to"] for job in await app.jobs("sms")] == [OWNER]
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.transfer_outcome == outcome


async def test_a_connected_transfer_hangs_up_cleanly_without_a_text(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        ended = await app.sim.dial_ended(
            placed, CALLER, BUSINESS_NUMBER, dial, status="completed", bridged=True, seconds=184
        )
        assert ended.status_code == 200
        assert [el.tag for el in ET.fromstring(ended.text)] == ["Hangup"]
        assert await app.jobs("sms") == []
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.transfer_outcome == "connected"


async def test_the_owners_text_goes_out_through_twilio_when_the_worker_runs(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, run_jobs=True) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        dial = await _transfer(app, placed)
        await app.sim.dial_ended(placed, CALLER, BUSINESS_NUMBER, dial, status="no-answer", bridged=False, seconds=0)
        (sent,) = await app.twilio.messages_arrive(1, to=OWNER)
        assert sent.body == f"Missed transfer: {SUMMARY} Call them back at (503) 555-0123."
        assert sent.from_ == demo_businesses().get("mikes-plumbing").main_number
