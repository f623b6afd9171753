"""Whole phone calls through a real uvicorn: Twilio's side is simulated (signed webhook, TwiML, media
websocket, playback with marks), the caller speaks with a synthesized voice, the agent hears with the
offline speech engine, books on the embedded calendar and hangs up through the local Twilio API server."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from silentpartner.store.models import BookingRecord
from silentpartner.voice.audio import silence_ulaw
from silentpartner.voice.call import CallTiming
from silentpartner.voice.codec import BURST_GAP_FRAMES
from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.support.caller_voice import caller_available, caller_pauses, caller_says
from tests.support.twilio_caller import DialedNumber, new_sid
from tests.voice.voice_app import BUSINESS_NUMBER, CALLER, OWNER, voice_app

_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
speech = pytest.mark.skipif(
    not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
)
pytestmark = [pytest.mark.speech, speech]

FAST = 8.0  # the simulated line plays and carries audio at 8x real time
LOCAL = ZoneInfo("America/Los_Angeles")


async def test_a_caller_books_a_visit_by_phone(sqlite_url: str) -> None:
    # (what the caller says, whether they go on as soon as the agent starts answering instead of waiting)
    script = [
        ("My kitchen faucet is leaking.", False),
        ("Jordan Smith.", False),
        ("Yes.", False),
        ("1234 Oak Street.", False),
        ("Tomorrow at two, please.", False),
        ("Yes.", True),  # the answer is the booking read-back, which is not interruptible...
        ("Yes.", False),  # ...so this "yes", said over it, does not cut it off
        ("No, that's all.", False),
    ]
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.4)
            assert call.agent_rms() > 300, "the greeting should be audible speech, not silence"
            for line, talk_over_the_answer in script:
                await call.say(caller_says(line))
                if talk_over_the_answer:
                    await call.agent_starts_speaking()
                    continue
                await call.agent_finished_turn(quiet=0.4)
                if call.closed.is_set():
                    break
            assert await call.wait_closed() == 1000
            # Neither the read-back nor the goodbye was cut: nothing was flushed, all of it played.
            assert call.talked_over_agent == 1
            assert call.clears == 0
            assert len(call.played_audio) == len(call.agent_audio)

        # The hang-up went through Twilio's REST API.
        hung_up = app.twilio.wait_for_call_update(placed.call_sid)
        assert hung_up.updates == [{"Status": "completed"}]

        db = app.db()
        async with db.session() as session:
            bookings = list(await session.scalars(select(BookingRecord)))
        await db.close()
        assert len(bookings) == 1
        booking = bookings[0]
        assert booking.attendee_phone == CALLER
        assert booking.attendee_name == "Jordan Smith"
        assert booking.start_at.astimezone(LOCAL) == datetime(2026, 11, 25, 14, 0, tzinfo=LOCAL)
        assert "faucet" in (booking.notes or "").lower()

        record = await app.call_record(placed.call_sid)
        assert record is not None
        assert record.outcome == "booked" and record.booking_uid == booking.uid
        assert record.status == "completed" and record.ended_at is not None
        roles = [entry["role"] for entry in record.transcript]
        assert roles[0] == "agent" and roles.count("caller") >= len(script) - 1
        assert all({"t", "at", "role", "text"} <= set(entry) for entry in record.transcript)
        times = [entry["t"] for entry in record.transcript]
        assert times == sorted(times)
        assert len(record.latencies_ms) >= len(script) - 1
        assert all(0 < ms < 10_000 for ms in record.latencies_ms)
        # The confirmation text is handed to messaging; nothing to text back.
        sms = await app.jobs("sms")
        assert {job.payload["kind"] for job in sms} >= {"confirmation"}
        assert [job.payload["to"] for job in sms if job.payload["kind"] == "confirmation"] == [CALLER]
        await app.sim.status_callback(placed.call_sid, "completed", 40)
        assert await app.jobs("textback") == []


async def test_a_caller_who_pauses_mid_sentence_is_never_talked_over_and_books(sqlite_url: str) -> None:
    # Each comma is a 700 ms pause; the caller speaks at real speed so the pauses are real ones (the agent's
    # audio still plays out fast). Fillers only in the first turn: Whisper tiny.en garbles the synthesized
    # "um" ("tomorrow it on"), and the rules brain then cannot read a name or a time. Likewise a bare "two" after
    # a pause: the synthesized "Tomorrow, at two please." can come back "tomorrow at Til please" (seen 2026-12-01).
    script = [
        "Hi, yeah, I'm calling because, um, my kitchen faucet, it's leaking.",
        "My name is, Jordan Smith.",
        "Yes.",
        "The address is, 1234 Oak Street.",
        "Tomorrow, at two in the afternoon.",
        "Yes.",
        "Yes.",
        "No, that's all.",
    ]
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.4)
            for line in script:
                assert not call.closed.is_set(), f"the call ended before {line!r}"
                await call.say(caller_pauses(line), speed=1.0)
                first_frame, last_speech_frame = call.caller_spans[-1]
                assert call.agent_media_between(first_frame, last_speech_frame) == 0, f"talked over: {line!r}"
                await call.agent_finished_turn(quiet=0.4)
            assert await call.wait_closed() == 1000
            assert call.clears == 0

        record = await app.call_record(placed.call_sid)
        assert record is not None
        said = [entry["text"] for entry in record.transcript if entry["role"] == "caller"]
        assert len(said) == len(script), said  # one turn each, however many pauses it had
        assert "because" in said[0].lower() and "leaking" in said[0].lower()
        assert record.outcome == "booked", [(entry["role"], entry["text"]) for entry in record.transcript]
        db = app.db()
        async with db.session() as session:
            bookings = list(await session.scalars(select(BookingRecord)))
        await db.close()
        assert len(bookings) == 1
        booking = bookings[0]
        assert booking.attendee_name == "Jordan Smith"
        assert booking.start_at.astimezone(LOCAL) == datetime(2026, 11, 25, 14, 0, tzinfo=LOCAL)
        assert "faucet" in (booking.notes or "").lower()


async def test_barging_in_clears_the_agents_audio_and_keeps_only_what_was_heard(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=1.0) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_starts_speaking()
            await call.say(caller_says("My kitchen faucet is leaking."), speed=2.0)
            await call.agent_finished_turn(quiet=0.4)
            assert call.talked_over_agent == 1
            assert call.clears == 1
            assert len(call.played_audio) < len(call.agent_audio)
        record = await app.call_record(placed.call_sid)
        assert record is not None
        greeting = record.transcript[0]
        assert greeting["role"] == "agent" and greeting["interrupted"] is True
        assert len(greeting["heard"].split()) < len(greeting["text"].split())
        assert greeting["text"].startswith(greeting["heard"])
        # The conversation went on with what the caller said over the greeting.
        assert any(e["role"] == "caller" and "faucet" in e["text"].lower() for e in record.transcript)
        assert record.transcript[-1]["role"] == "agent"


async def test_a_wrong_or_reused_token_is_refused(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        wrong = {**placed.parameters, "token": "not-the-token"}
        async with app.sim.connect(placed, parameters=wrong) as call:
            assert await call.wait_closed() == 1008
            assert call.agent_audio == bytearray()
        other = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        # A genuine token, but minted for another call.
        async with app.sim.connect(placed, parameters={**other.parameters, "call_sid": placed.call_sid}) as call:
            assert await call.wait_closed() == 1008
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            assert len(call.agent_audio) > 0
        async with app.sim.connect(placed) as call:  # the same token again
            assert await call.wait_closed() == 1008
            assert call.agent_audio == bytearray()


async def test_garbage_frames_do_not_kill_the_call_but_ten_in_a_row_do(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            for junk in ["not json", b"\x00\x01", '{"event": "media"}', '{"event": "mark", "mark": {}}', "[]"] * 1:
                await call.send_raw(junk)
            await call.say(caller_says("My kitchen faucet is leaking."))
            await call.agent_finished_turn(quiet=0.4)
            assert not call.closed.is_set()
            record = await app.call_record(placed.call_sid)
            assert record is not None
            assert any(e["role"] == "caller" and "faucet" in e["text"].lower() for e in record.transcript)
            for _ in range(10):
                await call.send_raw('{"event": "nonsense"}')
            assert await call.wait_closed() == 1007


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_flood_of_bad_frames_is_logged_once_per_burst(sqlite_url: str) -> None:
    """A 10k-frame fuzz used to write a warning per bad frame; now a burst is one line."""
    seen = _Records()
    call_log = logging.getLogger("silentpartner.voice.call")
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        call_log.addHandler(seen)
        try:
            placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
            async with app.sim.connect(placed) as call:
                await call.agent_finished_turn(quiet=0.3)
                quiet = silence_ulaw(20)
                for _ in range(1_000):  # junk between good frames: never ten in a row, so the call goes on
                    await call.send_raw("not json")
                    await call.send_frame(quiet)
                for _ in range(BURST_GAP_FRAMES):
                    await call.send_frame(quiet)
                await call.send_raw("[]")
                await call.stop()
                await call.wait_closed()
        finally:
            call_log.removeHandler(seen)
    bad = [r for r in seen.records if r.getMessage() == "media.bad_message"]
    assert [r.fields["earlier"] for r in bad] == [0, 1_000]  # type: ignore[attr-defined]


async def test_a_forwarded_call_is_greeted_as_a_missed_call(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER, forwarded_from="+15035550177")
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            assert call.agent_rms() > 300
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.forwarded_from == "+15035550177"
        assert "out on a job" in record.transcript[0]["text"]


async def test_silence_gets_a_reprompt_then_a_goodbye_and_a_hang_up(sqlite_url: str) -> None:
    timing = CallTiming(silence_reprompt_s=0.8, silence_goodbye_s=2.0)
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST, timing=timing) as app:
        # What the app had written when it asked Twilio to end the call: the end must be recorded and
        # handed to messaging before anyone can hear of it.
        at_hang_up: dict[str, list] = {}

        async def look_at_the_store(sid: str) -> None:
            at_hang_up["textback"] = [job.payload for job in await app.jobs("textback")]
            at_hang_up["call_summary"] = [job.payload for job in await app.jobs("call_summary")]
            record = await app.call_record(sid)
            at_hang_up["status"] = [record.status if record else None]

        app.twilio.on_call_update = look_at_the_store
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            assert await call.wait_closed() == 1000
        assert app.twilio.wait_for_call_update(placed.call_sid).updates == [{"Status": "completed"}]
        # Nothing came of the call: it was handed to messaging (a text-back, a note to the owner) first.
        assert at_hang_up == {
            "textback": [{"call_sid": placed.call_sid}],
            "call_summary": [{"call_sid": placed.call_sid}],
            "status": ["completed"],
        }
        record = await app.call_record(placed.call_sid)
        assert record is not None
        agent = [e for e in record.transcript if e["role"] == "agent"]
        assert len(agent) == 3  # greeting, re-prompt, goodbye
        assert agent[2]["interruptible"] is False
        assert agent[1]["t"] - agent[0]["t"] >= 0.8
        assert record.end_reason == "hangup:silence"
        assert [job.payload for job in await app.jobs("textback")] == [{"call_sid": placed.call_sid}]


async def test_a_caller_who_hangs_up_with_nothing_booked_is_reported_to_the_owner(sqlite_url: str) -> None:
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST, run_jobs=True) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.4)
            await call.say(caller_says("My kitchen faucet is leaking."))
            await call.agent_finished_turn(quiet=0.4)
            await call.stop()  # the caller hangs up
            assert await call.wait_closed() == 1000

        (note,) = await app.twilio.messages_arrive(1, to=OWNER)
        assert note.body.startswith(f"Call from {CALLER}, nothing booked: they hung up.")
        assert "faucet" in note.body.lower()
        (textback,) = await app.twilio.messages_arrive(1, to=CALLER)
        assert "missed you" in textback.body
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.end_reason == "stream stopped"
        assert "faucet" in (record.details or {}).get("problem", "").lower()


async def test_keys_are_gathered_and_a_transfer_dials_the_owner(sqlite_url: str) -> None:
    timing = CallTiming(dtmf_pause_s=0.3)
    with voice_app(sqlite_url, PINNED_NOW, speed=FAST, timing=timing) as app:
        placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
        async with app.sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.3)
            await call.press("12#")
            await call.agent_finished_turn(quiet=0.3)
            await call.press("7")  # ended by the pause
            await call.agent_finished_turn(quiet=0.3)
            await call.say(caller_says("Can I talk to a real person?"))
            assert await call.wait_closed() == 1000
            assert call.clears == 0
            assert len(call.played_audio) == len(call.agent_audio)  # the announcement was heard in full
        update = app.twilio.wait_for_call_update(placed.call_sid).updates[0]
        dial = DialedNumber.from_twiml(update["Twiml"])
        assert (dial.caller_id, dial.number) == (BUSINESS_NUMBER, OWNER)
        assert dial.whisper_url is not None
        # The conversation's sentence for the owner, or the caller-ID fallback when it wrote none.
        summary = parse_qs(urlsplit(dial.whisper_url).query)["summary"][0]
        assert summary.strip()
        record = await app.call_record(placed.call_sid)
        assert record is not None
        keys = [e.get("keys") for e in record.transcript if e.get("keys")]
        assert keys == ["12", "7"]
        assert record.outcome == "transferred" and record.status == "transferred"

        # Twilio rings the owner: they answer and hear the summary, but take no key (say, their voicemail).
        answered = await app.sim.dial_answered(placed.call_sid, dial, new_sid("CA"))
        assert any(summary in said for said in ET.fromstring(answered.text).itertext())
        ended = await app.sim.dial_ended(
            placed, CALLER, BUSINESS_NUMBER, dial, status="completed", bridged=False, seconds=31
        )
        assert "call you back" in " ".join(ET.fromstring(ended.text).itertext())
        owner_texts = [job.payload for job in await app.jobs("sms") if job.payload["to"] == OWNER]
        assert [text["body"] for text in owner_texts] == [
            f"Missed transfer: {summary} Call them back at (503) 555-0123."
        ]
        record = await app.call_record(placed.call_sid)
        assert record is not None and record.transfer_outcome == "declined"


async def test_with_call_brain_chat_the_chat_model_answers_the_call(sqlite_url: str) -> None:
    """CALL_BRAIN=chat: the caller's transcribed words reach the (local, scripted) chat model, its reply is
    spoken back, and its end_call tool ends the call through Twilio."""
    from tests.support.fake_openai_chat import ScriptedChat, call, say
    from tests.support.servers import LiveServer

    chat = ScriptedChat([say("Sorry to hear about the leak. What's your name?"), call("end_call")])
    with LiveServer(chat.app) as model:
        with voice_app(
            sqlite_url,
            PINNED_NOW,
            speed=FAST,
            call_brain="chat",
            openai_api_key="sk-test",
            openai_base_url=model.url + "/v1",
        ) as app:
            placed = await app.sim.place_call(from_=CALLER, to=BUSINESS_NUMBER)
            async with app.sim.connect(placed) as call_:
                await call_.agent_finished_turn(quiet=0.4)
                greeting_audio = len(call_.agent_audio)
                await call_.say(caller_says("My kitchen faucet is leaking."))
                await call_.agent_finished_turn(quiet=0.4)
                assert len(call_.agent_audio) > greeting_audio, "the model's reply should be spoken"
                await call_.say(caller_says("No, that's all."))
                assert await call_.wait_closed() == 1000

            assert app.twilio.wait_for_call_update(placed.call_sid).updates == [{"Status": "completed"}]
            heard = [m["content"] for m in chat.requests[0]["messages"] if m["role"] == "user"]
            assert any("faucet" in text.lower() for text in heard)
            record = await app.call_record(placed.call_sid)
            assert record is not None
            said = [entry["text"] for entry in record.transcript if entry["role"] == "agent"]
            assert "Sorry to hear about the leak. What's your name?" in said
