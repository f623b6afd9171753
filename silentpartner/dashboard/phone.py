"""The browser phone's server side: open a call as the voice webhook would for a phone call, and mint its
one-time media token. The page then speaks Twilio's Media Streams protocol to the same `/twilio/media`
websocket (see `assets/phone.js`), so the call runs through exactly the code a phone call does.

The caller is a customer with no caller ID (the owner trying their receptionist); the record's channel is
`browser`, so nothing asks Twilio to hang up or transfer a call it does not carry.
"""

from __future__ import annotations

import asyncio
import uuid

from silentpartner.business import Business
from silentpartner.dashboard.schemas import PhoneCallOut
from silentpartner.runtime import Runtime
from silentpartner.voice import records, tokens
from silentpartner.voice.warmup import speech_health, warm_for_call

MEDIA_PATH = "/twilio/media"
_background: set[asyncio.Task[None]] = set()


class PhoneUnavailable(Exception):
    """The receptionist cannot take a call right now; the message says why, for the owner."""


def new_call_sid() -> str:
    """Not a Twilio sid (those start CA): `BR` and 32 hex digits, which the media codec accepts as a sid."""
    return "BR" + uuid.uuid4().hex


async def open_call(runtime: Runtime, business: Business) -> PhoneCallOut:
    healthy, why = speech_health(runtime)
    if not healthy:
        raise PhoneUnavailable(f"speech is not available here: {why}")
    if business.slug not in runtime.calendars:
        raise PhoneUnavailable("this business has no calendar open")
    now = runtime.clock.now()
    sid = new_call_sid()
    record = await records.open_call(
        runtime.db,
        sid=sid,
        business=business.slug,
        from_number=None,
        to_number=business.main_number,
        forwarded_from=None,
        is_owner=False,
        channel="browser",
        now=now,
    )
    token = await tokens.mint(runtime.db, sid, now=now)
    task = asyncio.create_task(warm_for_call(runtime, business))
    _background.add(task)
    task.add_done_callback(_background.discard)
    return PhoneCallOut(call_id=record.id, call_sid=sid, media_path=MEDIA_PATH, token=token)
