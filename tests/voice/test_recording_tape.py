"""The recording tap on its own: where each side's audio lands on the call's timeline, fed the way LiveCall
feeds it, with a pinned clock."""

from __future__ import annotations

import io

import pytest

from silentpartner.voice.audio import MULAW_SILENCE
from silentpartner.voice.recording import MAX_LEAD_S, CallTape

RATE = 8000
QUIET = bytes([MULAW_SILENCE])


class KeptBytes(io.BytesIO):
    """A track file whose bytes can still be read after the tape closed it."""

    def close(self) -> None:
        self.kept = self.getvalue()
        super().close()

    @property
    def data(self) -> bytes:
        return self.kept if self.closed else self.getvalue()


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def tape() -> tuple[CallTape, KeptBytes, KeptBytes, Clock]:
    caller, agent, clock = KeptBytes(), KeptBytes(), Clock()
    return CallTape(caller, agent, began=clock.t, monotonic=clock), caller, agent, clock


def frame(byte: int, ms: int = 20) -> bytes:
    return bytes([byte]) * (ms * 8)


def test_caller_frames_go_where_their_timestamps_say_with_silence_in_the_gaps() -> None:
    t, caller, _, clock = tape()
    clock.t += 0.5
    t.heard(frame(0x10), 460)  # 460-480 ms
    clock.t += 2.0
    t.heard(frame(0x11), 2000)  # a client that sent nothing in between
    t.heard(frame(0x12), 2010)  # overlapping the one before: goes right after it
    data = caller.data
    assert data[: 460 * 8] == QUIET * (460 * 8)
    assert data[460 * 8 : 480 * 8] == frame(0x10)
    assert data[480 * 8 : 2000 * 8] == QUIET * (1520 * 8)
    assert data[2000 * 8 :] == frame(0x11) + frame(0x12)


def test_frames_late_from_the_network_stay_in_stream_order_without_gaps() -> None:
    t, caller, _, clock = tape()
    clock.t += 1.5  # a stall: a second of frames arrives at once
    for n in range(50):
        t.heard(frame(n + 1), 500 + n * 20)
    assert caller.data == QUIET * (500 * 8) + b"".join(frame(n + 1) for n in range(50))


def test_a_timestamp_from_the_future_is_not_believed_and_faster_than_real_time_is_dropped() -> None:
    t, caller, _, clock = tape()
    clock.t += 1.0
    t.heard(frame(0x20), 3_600_000)  # "an hour in": placed at most MAX_LEAD_S ahead of the clock
    assert len(caller.data) == int((1.0 + MAX_LEAD_S) * RATE) + 160
    for _ in range(10):  # the clock does not move: every frame is ahead of it
        t.heard(frame(0x21), 0)
    assert t.dropped == 10
    assert len(caller.data) == int((1.0 + MAX_LEAD_S) * RATE) + 160


def test_frames_without_timestamps_are_placed_by_arrival() -> None:
    t, caller, _, clock = tape()
    clock.t += 1.0
    t.heard(frame(0x30))
    for late_ms in (27, 12, 25, 18):  # jitter: back to back all the same
        clock.t += late_ms / 1000
        t.heard(frame(0x31))
    clock.t += 0.5  # the client stopped sending for half a second
    t.heard(frame(0x32))
    gap = int((1.0 + 0.082 + 0.5) * RATE) - 160 - (RATE + 4 * 160)
    assert caller.data == QUIET * (RATE - 160) + frame(0x30) + frame(0x31) * 4 + QUIET * gap + frame(0x32)


def test_agent_audio_sent_in_a_burst_plays_end_to_end_from_when_it_was_sent() -> None:
    t, _, agent, clock = tape()
    clock.t += 1.0
    for n in range(5):  # one second of speech sent at once: Twilio buffers it
        t.sent(frame(n + 1, 200))
    clock.t += 3.0  # played out long ago; the next line starts when it is sent
    t.sent(frame(0x40, 200))
    data = agent.data
    assert data[:RATE] == QUIET * RATE
    assert data[RATE : 2 * RATE] == b"".join(frame(n + 1, 200) for n in range(5))
    assert data[2 * RATE : 4 * RATE] == QUIET * (2 * RATE)
    assert data[4 * RATE :] == frame(0x40, 200)


def test_a_clear_cuts_the_agent_where_the_caller_stopped_hearing_it() -> None:
    t, _, agent, clock = tape()
    t.sent(frame(0x50, 3000))  # three seconds buffered at Twilio
    clock.t += 1.25
    t.cleared()
    assert agent.data == frame(0x50, 1250)
    clock.t += 0.5
    t.sent(frame(0x51, 200))  # the next reply plays from when it was sent, after the silence
    assert agent.data == frame(0x50, 1250) + QUIET * (RATE // 2) + frame(0x51, 200)


def test_the_end_of_the_call_cuts_what_had_not_played() -> None:
    t, caller, agent, clock = tape()
    t.sent(frame(0x60, 2000))
    clock.t += 0.5
    t.heard(frame(0x61), 480)
    t.stop()
    assert agent.data == frame(0x60, 500)
    assert caller.closed and agent.closed
    t.heard(frame(0x62), 500)  # frames after the end change nothing
    t.sent(frame(0x63))
    assert t.seconds == 0.5


class FullDisk(KeptBytes):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise OSError(28, "No space left on device")


async def test_a_full_disk_stops_the_recording_not_the_call(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    filed: list[bool] = []

    async def file_tracks() -> None:
        filed.append(True)

    t = CallTape(FullDisk(), KeptBytes(), began=clock.t, monotonic=clock, file_tracks=file_tracks)
    clock.t += 0.1
    t.heard(frame(0x70), 80)  # raises inside: the tape stops, the caller's frame is not lost to the call
    assert t.stopped
    t.sent(frame(0x71))
    t.cleared()
    await t.finish()
    assert filed == [True]  # what was written is still filed
    assert "recording.write_failed" in caplog.text
