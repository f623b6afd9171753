"""A local Twilio REST API (2010-04-01) for tests: the real twilio SDK is pointed at it with TWILIO_API_URL.

It speaks the parts the product uses, with Twilio's JSON shapes and error envelope:

- `POST /2010-04-01/Accounts/{sid}/Messages.json` (form To/From/Body/StatusCallback/MessagingServiceSid):
  201 with a message resource, or 400 `{"code", "message", "more_info", "status"}`. Per-destination
  error codes are configurable (`fail_to(number, 21610)`); every request is recorded.
- `POST /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json` (Status=completed, Twiml=..., Url=...):
  ends or redirects a live call; a call that already ended answers 400 code 21220 like Twilio does.
  `on_call_update` (async, given the call sid) runs before the update is answered: a test sees what
  the app had written by the time it asked Twilio to end the call.
- `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json`: the numbers given at construction.

Requests are checked against `shared/specs/twilio/twilio_api_v2010.json`: HTTP Basic auth with the
account sid and token, the spec's required fields, and no form field the spec does not define.
`send_status_callback(...)` plays Twilio's delivery status callback, signed with the auth token.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.servers import LiveServer
from tests.support.twilio_signing import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, signed_headers

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "specs" / "twilio" / "twilio_api_v2010.json"
_FALLBACK_SPEC = Path("/work/shared/specs/twilio/twilio_api_v2010.json")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21220: "Unable to update record. Call is not in-progress. Cannot redirect.",
    21635: "'To' number cannot be a landline",
}


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    path = SPEC_PATH if SPEC_PATH.exists() else _FALLBACK_SPEC
    return json.loads(path.read_text())


def _form_schema(path: str, method: str) -> tuple[set[str], set[str]]:
    """(allowed, required) form fields of one operation in the Twilio spec."""
    operation = _spec()["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    return set(schema.get("properties", {})), set(schema.get("required", []))


def _rfc2822(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    form: dict[str, str]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeCall:
    sid: str
    status: str = "in-progress"
    from_: str = "+15035550199"
    to: str = "+15035550100"
    updates: list[dict[str, str]] = field(default_factory=list)


class FakeTwilio:
    """`with FakeTwilio() as twilio:`, then Settings(twilio_api_url=twilio.url, twilio_account_sid=..., ...)."""

    def __init__(
        self,
        *,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        numbers: tuple[str, ...] = ("+15035550100",),
        accept_unknown_calls: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers
        # Twilio knows every call it carries; tests that never registered a call still get a live one.
        self.accept_unknown_calls = accept_unknown_calls
        self.messages: list[SentMessage] = []
        self.rejected: list[dict[str, Any]] = []  # sends answered with an error
        self.calls: dict[str, FakeCall] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.status_callbacks: list[tuple[str, int]] = []  # (url, our server's answer)
        self.on_call_update: Callable[[str], Awaitable[None]] | None = None
        self._errors: dict[str, int] = {}
        self._outage = 0
        self._changed = threading.Condition()
        self._server: LiveServer | None = None
        self.app = self._build_app()

    # -- control -------------------------------------------------------------------------------

    def outage(self, sends: int) -> None:
        """Answer the next `sends` message creates with 503, as Twilio does during an incident."""
        self._outage = sends

    def fail_to(self, number: str, code: int) -> None:
        """Answer every send to `number` with Twilio error `code` (21610 unsubscribed, 21614 landline, ...)."""
        self._errors[number] = code

    def add_call(self, sid: str, *, status: str = "in-progress", from_: str = "+15035550199", to: str = "+15035550100"):
        call = FakeCall(sid=sid, status=status, from_=from_, to=to)
        self.calls[sid] = call
        return call

    def end_call(self, sid: str) -> None:
        call = self.calls.get(sid) or self.add_call(sid)
        call.status = "completed"

    def messages_to(self, number: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == number]

    def wait_for_messages(self, count: int, *, to: str | None = None, timeout: float = 10) -> list[SentMessage]:
        """Block until at least `count` messages (to `to`, if given) were sent; returns them."""

        def matching() -> list[SentMessage]:
            return [m for m in self.messages if to is None or m.to == to]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} message(s) to {to or 'anyone'}, got {matching()!r}")
            return matching()

    async def messages_arrive(self, count: int, *, to: str | None = None, within: float = 10) -> list[SentMessage]:
        return await asyncio.to_thread(self.wait_for_messages, count, to=to, timeout=within)

    async def send_status_callback(
        self, message_sid: str, status: str, *, error_code: int | str | None = None, url: str | None = None
    ) -> httpx.Response:
        """POST a signed delivery status callback for a sent message, as Twilio does."""
        message = next(m for m in self.messages if m.sid == message_sid)
        target = url or message.status_callback
        if not target:
            raise AssertionError(f"message {message_sid} was sent without a StatusCallback")
        message.status = status
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_ or self.numbers[0],
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(target, data=params, headers=signed_headers(self.auth_token, target, params))
        self.status_callbacks.append((target, response.status_code))
        return response

    # -- server ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake Twilio server first"
        return self._server.url

    def start(self) -> FakeTwilio:
        self._server = LiveServer(self.app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API -----------------------------------------------------------------------------------

    def _error(self, code: int, status: int = 400, message: str | None = None) -> JSONResponse:
        return JSONResponse(
            {
                "code": code,
                "message": message or ERROR_MESSAGES.get(code, "Error"),
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status_code=status,
        )

    def _authorised(self, request: Request, account_sid: str) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return False
        import base64

        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid == account_sid and password == self.auth_token

    async def _form(self, request: Request, path: str) -> tuple[dict[str, str], JSONResponse | None]:
        form = await request.form()
        fields = {key: str(value) for key, value in form.multi_items()}
        self.requests.append((request.method, request.url.path, fields))
        allowed, required = _form_schema(path, "post")
        unknown = sorted(set(fields) - allowed)
        if unknown:
            return fields, self._error(20001, message=f"Unknown parameter(s) {unknown} (not in the 2010 API spec)")
        missing = sorted(required - set(fields))
        if missing:
            code = 21604 if "To" in missing else 21000
            return fields, self._error(code, message=f"Missing required parameter(s) {missing}")
        return fields, None

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        base = "/2010-04-01/Accounts/{AccountSid}"

        @app.post(base + "/Messages.json")
        async def create_message(AccountSid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, AccountSid):
                return self._error(20003, status=401)
            form, problem = await self._form(request, base + "/Messages.json")
            if problem is not None:
                return problem
            to = form["To"]
            if not E164.match(to):
                return self._error(21211)
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return self._error(21603)
            if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
                return self._error(21602)
            if self._outage > 0:
                self._outage -= 1
                return self._error(20503, status=503, message="Service Unavailable")
            code = self._errors.get(to)
            if code is not None:
                with self._changed:
                    self.rejected.append({"to": to, "code": code, "form": form})
                    self._changed.notify_all()
                return self._error(code)
            sid = "SM" + uuid.uuid4().hex
            service = form.get("MessagingServiceSid")
            message = SentMessage(
                sid=sid,
                to=to,
                from_=form.get("From"),
                body=form.get("Body", ""),
                messaging_service_sid=service,
                status_callback=form.get("StatusCallback"),
                status="accepted" if service and not form.get("From") else "queued",
                form=form,
            )
            with self._changed:
                self.messages.append(message)
                self._changed.notify_all()
            return JSONResponse(self._message_json(message), status_code=201)

        @app.post(base + "/Calls/{CallSid}.json")
        async def update_call(AccountSid: str, CallSid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, AccountSid):
                return self._error(20003, status=401)
            form, problem = await self._form(request, base + "/Calls/{Sid}.json")
            if problem is not None:
                return problem
            call = self.calls.get(CallSid)
            if call is None:
                if not self.accept_unknown_calls:
                    return self._error(20404, status=404)
                call = self.add_call(CallSid)
            if form.get("Twiml") and form.get("Url"):
                return self._error(21000, message="Twiml and Url are mutually exclusive")
            if call.status in ("completed", "canceled", "failed", "busy", "no-answer"):
                return self._error(21220)
            if self.on_call_update is not None:
                await self.on_call_update(CallSid)
            with self._changed:
                call.updates.append(form)
                if form.get("Status") in ("completed", "canceled"):
                    call.status = form["Status"]
                self._changed.notify_all()
            return JSONResponse(self._call_json(call), status_code=200)

        @app.get(base + "/IncomingPhoneNumbers.json")
        async def list_numbers(AccountSid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, AccountSid):
                return self._error(20003, status=401)
            wanted = request.query_params.get("PhoneNumber")
            numbers = [n for n in self.numbers if wanted is None or n == wanted]
            uri = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
            return JSONResponse(
                {
                    "end": max(len(numbers) - 1, 0),
                    "first_page_uri": uri + "?PageSize=50&Page=0",
                    "incoming_phone_numbers": [self._number_json(n, i) for i, n in enumerate(numbers)],
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "previous_page_uri": None,
                    "start": 0,
                    "uri": uri + "?PageSize=50&Page=0",
                }
            )

        return app

    def wait_for_call_update(self, sid: str, *, timeout: float = 10) -> FakeCall:
        with self._changed:
            if not self._changed.wait_for(lambda: sid in self.calls and bool(self.calls[sid].updates), timeout=timeout):
                raise AssertionError(f"call {sid} was never updated")
            return self.calls[sid]

    def _message_json(self, m: SentMessage) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m.sid}"
        stamp = _rfc2822(m.created_at)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": m.body,
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": m.from_,
            "messaging_service_sid": m.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(m.body) // 160))),
            "price": None,
            "price_unit": "USD",
            "sid": m.sid,
            "status": m.status,
            "subresource_uris": {"media": uri + "/Media.json"},
            "to": m.to,
            "uri": uri + ".json",
        }

    def _call_json(self, call: FakeCall) -> dict[str, Any]:
        stamp = _rfc2822(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}"
        return {
            "sid": call.sid,
            "date_created": stamp,
            "date_updated": stamp,
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": call.to,
            "to_formatted": call.to,
            "from": call.from_,
            "from_formatted": call.from_,
            "phone_number_sid": "PN" + "0" * 32,
            "status": call.status,
            "start_time": stamp,
            "end_time": stamp if call.status == "completed" else None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "direction": "inbound",
            "answered_by": None,
            "api_version": "2010-04-01",
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": uri + ".json",
            "subresource_uris": {"notifications": uri + "/Notifications.json", "recordings": uri + "/Recordings.json"},
        }

    def _number_json(self, number: str, index: int) -> dict[str, Any]:
        sid = f"PN{index:032x}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "friendly_name": number,
            "phone_number": number,
            "sid": sid,
            "sms_method": "POST",
            "sms_url": "",
            "status": "in-use",
            "type": "local",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
            "voice_method": "POST",
            "voice_url": None,
        }
