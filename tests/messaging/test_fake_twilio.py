"""The local Twilio API answers the real twilio SDK the way Twilio does (shapes, errors, auth)."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from silentpartner.settings import Settings
from silentpartner.twilio_api import make_twilio_client
from tests.support.fake_twilio import FakeTwilio
from tests.support.twilio_signing import TEST_AUTH_TOKEN, twilio_signature


async def test_sdk_against_the_fake(twilio: FakeTwilio) -> None:
    settings = Settings(
        twilio_api_url=twilio.url,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        _env_file=None,  # type: ignore[call-arg]
    )
    client = make_twilio_client(settings)
    assert client is not None
    try:
        sent = await client.messages.create_async(
            to="+15035550111", from_="+15035550100", body="hello", status_callback="https://example.com/s"
        )
        assert sent.sid.startswith("SM") and sent.status == "queued" and sent.direction == "outbound-api"
        via_service = await client.messages.create_async(
            to="+15035550111", messaging_service_sid="MG" + "0" * 32, body="hi"
        )
        assert via_service.status == "accepted"
        assert [m.form["To"] for m in twilio.messages] == ["+15035550111", "+15035550111"]

        twilio.fail_to("+15035550112", 21610)
        with pytest.raises(TwilioRestException) as refused:
            await client.messages.create_async(to="+15035550112", from_="+15035550100", body="hi")
        assert refused.value.code == 21610 and refused.value.status == 400
        with pytest.raises(TwilioRestException) as no_from:
            await client.messages.create_async(to="+15035550111", body="hi")
        assert no_from.value.code == 21603

        call = await client.calls("CA" + "1" * 32).update_async(status="completed")
        assert call.status == "completed"
        with pytest.raises(TwilioRestException) as ended:
            await client.calls("CA" + "1" * 32).update_async(twiml="<Response><Hangup/></Response>")
        assert ended.value.code == 21220
        numbers = await client.incoming_phone_numbers.list_async()
        assert [n.phone_number for n in numbers] == ["+15035550100"]
    finally:
        await client.http_client.close()


async def test_the_fake_checks_auth_and_the_spec(twilio: FakeTwilio) -> None:
    url = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    async with httpx.AsyncClient() as http:
        wrong = await http.post(url, data={"To": "+15035550111", "Body": "x"}, auth=(twilio.account_sid, "nope"))
        assert wrong.status_code == 401 and wrong.json()["code"] == 20003
        auth = (twilio.account_sid, twilio.auth_token)
        unknown = await http.post(url, data={"To": "+15035550111", "From": "+15035550100", "Bdy": "x"}, auth=auth)
        assert unknown.status_code == 400 and "Bdy" in unknown.json()["message"]
        missing = await http.post(url, data={"From": "+15035550100", "Body": "x"}, auth=auth)
        assert missing.status_code == 400 and missing.json()["code"] == 21604
    assert twilio.messages == []


def test_signing_matches_twilios_validator() -> None:
    from twilio.request_validator import RequestValidator

    params = {"From": "+15035550111", "Body": "C"}
    signature = twilio_signature(TEST_AUTH_TOKEN, "https://sp.example/twilio/sms", params)
    assert RequestValidator(TEST_AUTH_TOKEN).validate("https://sp.example/twilio/sms", params, signature)
    assert not RequestValidator(TEST_AUTH_TOKEN).validate(
        "https://sp.example/twilio/sms", {**params, "Body": "Y"}, signature
    )
