"""Hostile requests against `silentpartner serve` run as a process, the way a tester met them: Twilio
webhooks without a token on a public URL, multipart bodies with a file part, odd Cal.com signatures and
bodies. Each is a plain 4xx, never a 500, and a refused request leaves its keep-alive connection usable."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serve_runner import ServeProcess, free_port, product_env
from tests.support.twilio_signing import TEST_AUTH_TOKEN, signed_headers

PUBLIC_URL = "https://sp.example.test"
CAL_SECRET = "whsec-hostile-0123456789"
CALL = {"CallSid": "CA" + "5" * 32, "From": "+15035550123", "To": "+15035550100", "CallStatus": "ringing"}
TWILIO_ROUTES = [
    "/twilio/voice",
    "/twilio/voice-after",
    "/twilio/status",
    "/twilio/stream-status",
    "/twilio/sms",
    "/twilio/sms-status",
]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """Configured for production: a public URL, Twilio's token, a Cal.com webhook secret."""
    workdir = tmp_path_factory.mktemp("signed")
    env = {
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "CALCOM_WEBHOOK_SECRET": CAL_SECRET,
        "RUN_JOBS": "false",
    }
    with ServeProcess(workdir, env) as serve:
        yield serve


def multipart_with_a_file(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "hostile0boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="Body"; filename="x.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nhello\r\n".encode()
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_a_multipart_body_with_a_file_part_is_refused_and_the_connection_survives(
    signed: ServeProcess, path: str
) -> None:
    body, content_type = multipart_with_a_file({**CALL, "MessageSid": "SM" + "5" * 32, "MessageStatus": "sent"})
    connection = http.client.HTTPConnection("127.0.0.1", signed.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": content_type, "X-Twilio-Signature": "c2lnbmVk"}
        )
        refused = connection.getresponse()
        refused.read()
        assert refused.status == 403, refused.status
        kept = connection.sock
        assert kept is not None and refused.getheader("connection", "").lower() != "close"

        connection.request("GET", "/healthz")
        after = connection.getresponse()
        assert (after.status, after.read()) == (200, b'{"status":"ok"}')
        assert connection.sock is kept  # the same connection answered: it was not reset
    finally:
        connection.close()


def test_a_non_ascii_calcom_signature_is_refused(signed: ServeProcess) -> None:
    raw = b'{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"abc"}}'
    response = httpx.post(
        signed.url + "/webhooks/calcom",
        content=raw,
        headers={"Content-Type": "application/json", "X-Cal-Signature-256": "\u00e9".encode() * 32},
    )
    assert response.status_code == 401


def test_a_signed_calcom_body_nested_100000_deep_is_refused(signed: ServeProcess) -> None:
    raw = b'{"triggerEvent":"BOOKING_CREATED","payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    signature = hmac.new(CAL_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = httpx.post(
        signed.url + "/webhooks/calcom",
        content=raw,
        headers={"Content-Type": "application/json", "X-Cal-Signature-256": signature},
    )
    assert response.status_code == 400 and "nested" in response.json()["error"]
    shallow = b'{"triggerEvent":"BOOKING_CREATED","payload":' + b"[" * 40 + b"]" * 40 + b"}"
    signature = hmac.new(CAL_SECRET.encode(), shallow, hashlib.sha256).hexdigest()
    response = httpx.post(
        signed.url + "/webhooks/calcom",
        content=shallow,
        headers={"Content-Type": "application/json", "X-Cal-Signature-256": signature},
    )
    assert response.status_code == 400


def test_a_genuine_twilio_signature_still_gets_through(signed: ServeProcess) -> None:
    headers = signed_headers(TEST_AUTH_TOKEN, PUBLIC_URL + "/twilio/voice-after", CALL)
    response = httpx.post(signed.url + "/twilio/voice-after", data=CALL, headers=headers)
    assert response.status_code == 200 and "<Hangup" in response.text


def test_without_a_token_on_a_public_url_unsigned_twilio_webhooks_are_refused(tmp_path: Path) -> None:
    """Fail closed: no TWILIO_AUTH_TOKEN means nothing to check against, so nothing is accepted. Before,
    an unsigned request was taken for a local one, and a proxy makes every request look local."""
    with ServeProcess(tmp_path, {"PUBLIC_URL": PUBLIC_URL, "RUN_JOBS": "false"}) as serve:
        voice = httpx.post(serve.url + "/twilio/voice", data=CALL)
        assert voice.status_code == 403 and "Stream" not in voice.text
        forwarded = httpx.post(serve.url + "/twilio/voice", data=CALL, headers={"X-Forwarded-For": "127.0.0.1"})
        assert forwarded.status_code == 403
        sms = httpx.post(
            serve.url + "/twilio/sms",
            data={"MessageSid": "SM" + "6" * 32, "From": "+15035550123", "To": "+15035550100", "Body": "C"},
        )
        assert sms.status_code == 403 and "<Message" not in sms.text


def test_unsigned_twilio_webhooks_may_not_be_allowed_on_a_public_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "silentpartner", "serve", "--port", str(free_port())],
        env=product_env(PUBLIC_URL=PUBLIC_URL, TWILIO_ALLOW_UNSIGNED="true"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: TWILIO_ALLOW_UNSIGNED: only allowed when PUBLIC_URL is this machine")
    assert len(done.stderr.strip().splitlines()) == 1
