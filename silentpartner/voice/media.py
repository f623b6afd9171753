"""The media websocket: Twilio's handshake (`connected`, `start`), the one-time token, then the call on the
business's speech engine: a `RealtimeCall` (which hands over to a `LiveCall` if its socket drops), or a LiveCall.

Nothing is bridged until `start.customParameters` carries an unused token minted for that call sid by
the signed voice webhook; otherwise the socket is closed with 1008 (policy violation). Bad frames are
skipped and logged once per burst (see the codec); 10 in a row close the socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from sqlalchemy import select
from starlette.websockets import WebSocket, WebSocketDisconnect

from silentpartner.calendar import patience
from silentpartner.conversation.events import Say
from silentpartner.logs import business_var, call_sid_var, log_event
from silentpartner.runtime import Runtime
from silentpartner.store.activity import StoreActivity
from silentpartner.store.models import BookingRecord
from silentpartner.voice import recording_files, records, tokens
from silentpartner.voice.call import MAX_BAD_IN_A_ROW, CallInfo, CallTiming, LiveCall
from silentpartner.voice.codec import BadMessage, Connected, MediaStreamCodec, Started
from silentpartner.voice.control import NoCallControl
from silentpartner.voice.engines import engine_for
from silentpartner.voice.recorder import CallRecorder
from silentpartner.voice.recording import NOT_RECORDING
from silentpartner.voice.warmup import call_control, speech_engine

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
INVALID_DATA = 1007
SERVER_ERROR = 1011
START_TIMEOUT_S = 15.0  # Twilio sends connected and start right after the socket opens


class StarletteTransport:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def receive(self) -> str | bytes | None:
        if self.closed:
            return None
        try:
            message = await self.websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            self.closed = True
            return None
        if message["type"] == "websocket.disconnect":
            self.closed = True
            return None
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def send(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.closed = True

    async def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.websocket.close(code)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the other side is already gone


async def _await_start(transport: StarletteTransport, codec: MediaStreamCodec) -> Started | None:
    bad = 0
    while True:
        frame = await transport.receive()
        if frame is None:
            return None
        event = codec.receive(frame)
        if isinstance(event, Started):
            return event
        if isinstance(event, Connected):
            continue
        bad += 1
        if not isinstance(event, BadMessage):
            log_event(
                log, "media.bad_message", logging.WARNING, reason=f"unexpected {type(event).__name__} before start"
            )
        elif event.first_of_burst:
            log_event(log, "media.bad_message", logging.WARNING, reason=event.reason, earlier=event.previous_burst)
        if bad >= MAX_BAD_IN_A_ROW:
            await transport.close(INVALID_DATA)
            return None


async def serve_media_stream(websocket: WebSocket, runtime: Runtime) -> None:
    await websocket.accept()
    transport = StarletteTransport(websocket)
    codec = MediaStreamCodec()
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            started = await _await_start(transport, codec)
    except TimeoutError:
        started = None
    began = time.monotonic()  # a recording's time zero: where Twilio's stream clock starts (within network delay)
    if started is None:
        await transport.close(POLICY_VIOLATION)
        return
    call_sid_var.set(started.call_sid)
    token = started.custom_parameters.get("token", "")
    claimed_sid = started.custom_parameters.get("call_sid", started.call_sid)
    now = runtime.clock.now()
    if claimed_sid != started.call_sid or not await tokens.redeem(runtime.db, started.call_sid, token, now=now):
        log_event(log, "media.token_refused", logging.WARNING)
        await transport.close(POLICY_VIOLATION)
        return
    record = await records.load_call(runtime.db, started.call_sid)
    business = runtime.businesses.by_slug(record.business) if record else None
    calendar = runtime.calendars.get(business.slug) if business else None
    if record is None or business is None or calendar is None:
        log_event(log, "media.no_call", logging.WARNING, has_record=record is not None)
        await transport.close(POLICY_VIOLATION)
        return
    business_var.set(business.slug)
    from silentpartner.brains import brain_for_call
    from silentpartner.conversation.driver import ConversationDriver
    from silentpartner.conversation.machine import ConversationMachine

    staff = member.name if (member := business.staff(record.from_number)) else None
    info = CallInfo(
        call_sid=record.sid,
        business=business,
        caller=record.from_number,
        forwarded_from=record.forwarded_from,
        is_owner=record.is_owner,
        staff=staff,
        known_customer=await _known_customer(runtime, business.slug, record.from_number),
        channel=record.channel if record.channel in ("phone", "browser") else "phone",
    )
    # The owner's and the team's own calls run their day on the rules brain (PIN, guarded changes): offline.
    realtime = (
        runtime.realtime is not None
        and engine_for(runtime.settings, business)[0] == "realtime"
        and not (record.is_owner or staff)
    )
    owner_pin = business.owner_pin(os.environ)
    driver = ConversationDriver(
        business,
        calendar,
        clock=runtime.clock,
        brain=None if realtime else brain_for_call(runtime),
        activity=StoreActivity(runtime.db, business.slug),
        owner_pin=owner_pin,
        # On Realtime the model is the brain; it reaches the machine through the chat brain's guarded tools.
        machine=ConversationMachine(business, runtime.clock, external_brain=True, owner_pin=owner_pin)
        if realtime
        else None,
    )
    # A browser-phone call has no Twilio leg to hang up or transfer, even when Twilio is configured.
    control = NoCallControl() if record.channel == "browser" else call_control(runtime)
    tape = recording_files.tape_for(runtime, business, record, began=began) or NOT_RECORDING

    async def offline(opening: Say | None = None, recorder: CallRecorder | None = None) -> None:
        try:
            speech = await speech_engine(runtime)
        except Exception as exc:
            log_event(log, "media.speech_unavailable", logging.ERROR, error=repr(exc))
            if recorder is None:
                await records.update_call(runtime.db, started.call_sid, status="speech-unavailable")
                await records.settle(runtime.db, started.call_sid, now=runtime.clock.now(), reason="speech unavailable")
            raise
        call = LiveCall(
            info=info,
            codec=codec,
            transport=transport,
            speech=speech,
            driver=driver,
            control=control,
            db=runtime.db,
            clock=runtime.clock,
            timing=runtime.call_timing or CallTiming(),
            heartbeat_s=runtime.settings.call_heartbeat_seconds,
            instance_id=runtime.instance_id,
            tape=tape,
            recorder=recorder,
            opening=opening,
        )
        await call.run()

    try:
        # A caller cannot wait out a calendar's rate limit: fail fast and offer a callback instead.
        with patience.interactive():
            if realtime:
                await _realtime_call(runtime, info, codec, transport, driver, control, tape, offline)
            else:
                await offline()
    except Exception:
        log.exception("media.call_failed")
        await transport.close(SERVER_ERROR)
    finally:
        await transport.close(1000)
        await tape.finish()


async def _realtime_call(runtime, info, codec, transport, driver, control, tape, offline) -> None:
    from silentpartner.voice.realtime.relay import RealtimeCall

    assert runtime.realtime is not None
    await RealtimeCall(
        info=info,
        codec=codec,
        transport=transport,
        driver=driver,
        control=control,
        db=runtime.db,
        clock=runtime.clock,
        settings=runtime.settings,
        sessions=runtime.realtime,
        hand_over=offline,
        timing=runtime.call_timing or CallTiming(),
        tape=tape,
        heartbeat_s=runtime.settings.call_heartbeat_seconds,
        instance_id=runtime.instance_id,
    ).run()


async def _known_customer(runtime: Runtime, business: str, caller: str | None) -> bool:
    if not caller:
        return False
    async with runtime.db.session() as session:
        found = await session.scalar(
            select(BookingRecord.id)
            .where(BookingRecord.business == business, BookingRecord.attendee_phone == caller)
            .limit(1)
        )
    return found is not None
