"""Where a turn's latency goes: the parts add up to the whole, on a pinned timeline."""

from __future__ import annotations

from silentpartner.voice.listener import SegmentTimes
from silentpartner.voice.turn_latency import TurnBreakdown


def test_the_parts_of_a_turn_add_up_to_its_latency() -> None:
    # speech ends at 10.0; the VAD's pause closes the segment at 10.25; the transcript is in at 10.55 and the
    # score at 10.50; the floor ends the turn at 10.56; the first line is ready at 10.70 after 0.10 s in a
    # tool; the first sentence renders in 0.03 s; the first audio byte goes out at 10.75.
    breakdown = TurnBreakdown(
        speech_ended_at=10.0,
        decided_at=10.56,
        segment=SegmentTimes(paused_at=10.25, heard_at=10.55, scored_at=10.50),
        tool_seconds_before=1.0,
        said_at=10.70,
        tool_s=0.10,
        tts_s=0.03,
    )
    parts = breakdown.parts_ms(first_audio_at=10.75)
    assert parts == {"endpointing": 260, "stt": 300, "brain": 40, "tool": 100, "tts": 30, "overhead": 20}
    assert sum(parts.values()) == 750


def test_without_segment_times_the_wait_counts_as_endpointing() -> None:
    breakdown = TurnBreakdown(speech_ended_at=5.0, decided_at=5.4, segment=None, tool_seconds_before=0.0)
    parts = breakdown.parts_ms(first_audio_at=5.5)
    assert parts["endpointing"] == 400 and parts["stt"] == 0
    assert parts["brain"] == 100 and sum(parts.values()) == 500
