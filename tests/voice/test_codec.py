"""The Media Streams codec against recorded message sequences (shapes as Twilio sends them)."""

from __future__ import annotations

import base64
import json

import pytest

from silentpartner.voice.codec import (
    BURST_GAP_FRAMES,
    BadMessage,
    Connected,
    Dtmf,
    MarkFlushed,
    MarkPlayed,
    Media,
    MediaStreamCodec,
    Started,
    Stopped,
    StreamNotStarted,
)

STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA0c4b3e7c2a9d8e1f0a1b2c3d4e5f6a7b"
ACCOUNT = "AC25e16e9a716a4a1786a7c83f58e30482"


def connected() -> str:
    return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start(token: str = "tok", seq: str = "1") -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": seq,
            "start": {
                "accountSid": ACCOUNT,
                "streamSid": STREAM,
                "callSid": CALL,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"token": token, "call_sid": CALL},
            },
            "streamSid": STREAM,
        }
    )


def media(payload: bytes, seq: int, chunk: int) -> str:
    return json.dumps(
        {
            "event": "media",
            "sequenceNumber": str(seq),
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(chunk * 20),
                "payload": base64.b64encode(payload).decode(),
            },
            "streamSid": STREAM,
        }
    )


def mark(name: str, seq: int) -> str:
    return json.dumps({"event": "mark", "sequenceNumber": str(seq), "streamSid": STREAM, "mark": {"name": name}})


def started_codec() -> MediaStreamCodec:
    codec = MediaStreamCodec()
    assert isinstance(codec.receive(connected()), Connected)
    assert isinstance(codec.receive(start()), Started)
    return codec


def test_a_recorded_call_parses_in_order() -> None:
    codec = MediaStreamCodec()
    assert codec.receive(connected()) == Connected("Call", "1.0.0")
    started = codec.receive(start(token="abc"))
    assert isinstance(started, Started)
    assert (started.stream_sid, started.call_sid, started.account_sid) == (STREAM, CALL, ACCOUNT)
    assert started.custom_parameters == {"token": "abc", "call_sid": CALL}
    assert started.sequence == 1
    frame = bytes(range(160))
    got = codec.receive(media(frame, seq=2, chunk=1))
    assert got == Media(payload=frame, chunk=1, timestamp_ms=20, track="inbound", sequence=2)
    dtmf = json.dumps(
        {"event": "dtmf", "streamSid": STREAM, "sequenceNumber": "3", "dtmf": {"track": "inbound_track", "digit": "7"}}
    )
    assert codec.receive(dtmf) == Dtmf("7", 3)
    stop = json.dumps(
        {
            "event": "stop",
            "sequenceNumber": "4",
            "stop": {"accountSid": ACCOUNT, "callSid": CALL},
            "streamSid": STREAM,
        }
    )
    assert codec.receive(stop) == Stopped(CALL, 4)
    assert isinstance(codec.receive(media(frame, seq=5, chunk=2)), BadMessage)


def test_nothing_can_be_sent_or_received_before_start() -> None:
    codec = MediaStreamCodec()
    codec.receive(connected())
    with pytest.raises(StreamNotStarted):
        codec.send_audio(b"\xff" * 160)
    with pytest.raises(StreamNotStarted):
        codec.clear()
    bad = codec.receive(media(b"\xff" * 160, seq=2, chunk=1))
    assert isinstance(bad, BadMessage) and "before start" in bad.reason


def test_outbound_frames_have_twilios_shape() -> None:
    codec = started_codec()
    media_frame, mark_frame, name = codec.send_audio(b"\x7f" * 320, tag="hello")
    assert json.loads(media_frame) == {
        "event": "media",
        "streamSid": STREAM,
        "media": {"payload": base64.b64encode(b"\x7f" * 320).decode()},
    }
    assert json.loads(mark_frame) == {"event": "mark", "streamSid": STREAM, "mark": {"name": name}}
    assert json.loads(codec.clear()) == {"event": "clear", "streamSid": STREAM}


def test_echoed_marks_say_what_was_played_and_clear_flushes_the_rest() -> None:
    codec = started_codec()
    names = [codec.send_audio(b"\xff" * 160, tag=i)[2] for i in range(4)]
    assert codec.pending_marks == 4 and codec.playing
    assert codec.receive(mark(names[0], 10)) == MarkPlayed(names[0], 0)
    assert codec.receive(mark(names[1], 11)) == MarkPlayed(names[1], 1)
    codec.clear()
    assert not codec.playing
    # Twilio answers a clear by echoing every pending mark at once: those were flushed, not heard.
    assert codec.receive(mark(names[2], 12)) == MarkFlushed(names[2], 2)
    assert codec.receive(mark(names[3], 13)) == MarkFlushed(names[3], 3)
    assert codec.pending_marks == 0
    # Audio sent after the clear plays normally again.
    _, _, later = codec.send_audio(b"\xff" * 160, tag="after")
    assert codec.receive(mark(later, 14)) == MarkPlayed(later, "after")


@pytest.mark.parametrize(
    "frame",
    [
        b"\x00\x01binary",
        "not json",
        "[1, 2, 3]",
        "{}",
        json.dumps({"event": 5}),
        json.dumps({"event": "media", "streamSid": STREAM}),
        json.dumps({"event": "media", "streamSid": STREAM, "media": {"payload": "***not base64***"}}),
        json.dumps({"event": "media", "streamSid": "MZother", "media": {"payload": "AAAA"}}),
        json.dumps({"event": "media", "streamSid": STREAM, "media": {"payload": "AAAA", "chunk": 3}}),
        json.dumps({"event": "media", "streamSid": STREAM, "media": {"payload": "A" * 20000}}),
        json.dumps({"event": "dtmf", "streamSid": STREAM, "dtmf": {"digit": "12"}}),
        json.dumps({"event": "mark", "streamSid": STREAM, "mark": {"name": "never-sent"}}),
        json.dumps({"event": "mystery", "streamSid": STREAM}),
        "[" * 100_000,
        start(),  # a second start
        connected(),  # connected after start
    ],
)
def test_malformed_oversized_and_unexpected_frames_are_bad_messages(frame: str | bytes) -> None:
    codec = started_codec()
    result = codec.receive(frame)
    assert isinstance(result, BadMessage), result
    assert result.reason
    # The stream is still usable afterwards.
    assert isinstance(codec.receive(media(b"\xff" * 160, seq=9, chunk=9)), Media)


def test_start_shapes_are_checked_strictly() -> None:
    message = json.loads(start())
    message["start"]["mediaFormat"]["encoding"] = "audio/l16"
    assert isinstance(MediaStreamCodec().receive(json.dumps(message)), BadMessage)
    message = json.loads(start())
    message["start"]["customParameters"] = {"token": 5}
    assert isinstance(MediaStreamCodec().receive(json.dumps(message)), BadMessage)
    message = json.loads(start())
    message["start"]["callSid"] = "../../etc"
    assert isinstance(MediaStreamCodec().receive(json.dumps(message)), BadMessage)
    message = json.loads(start())
    message["sequenceNumber"] = 1  # numbers arrive as strings
    assert isinstance(MediaStreamCodec().receive(json.dumps(message)), BadMessage)


def test_bad_frames_are_grouped_into_bursts_so_a_flood_is_one_log_line() -> None:
    codec = started_codec()
    seq = 2
    events = []
    # A fuzzer's 10,000 frames: junk between good media frames (so the socket never closes).
    for i in range(5_000):
        events.append(codec.receive("not json"))
        seq += 1
        events.append(codec.receive(media(b"\xff" * 160, seq=seq, chunk=i + 1)))
    bad = [e for e in events if isinstance(e, BadMessage)]
    assert len(bad) == 5_000 and codec.bad_frames == 5_000
    assert [e.first_of_burst for e in bad].count(True) == 1 and bad[0].previous_burst == 0
    # A second of good audio ends the burst; the next bad frame starts another and reports the last one.
    for i in range(BURST_GAP_FRAMES):
        seq += 1
        assert not isinstance(codec.receive(media(b"\xff" * 160, seq=seq, chunk=5_001 + i)), BadMessage)
    again = codec.receive(b"\x00\x01")
    assert isinstance(again, BadMessage) and again.first_of_burst and again.previous_burst == 5_000
