"""Where a turn's latency goes on a live call (logged with `call.turn_latency`, read by bench/voice.py)."""

from __future__ import annotations

from dataclasses import dataclass

from silentpartner.voice.listener import SegmentTimes


@dataclass
class TurnBreakdown:
    """Where one turn's latency went, from the end of the caller's speech to the first agent audio sent:

    endpointing  the VAD's pause that closed the segment, plus the floor's wait once it had the results
    stt          the pause -> the turn's transcript and end-of-turn score (including waiting for a worker)
    brain        the turn handed to the conversation -> its first line, less the time in tools
    tool         calendar and other tools during that
    tts          synthesizing the first sentence (including waiting for a worker)
    overhead     the rest: queues between the call's tasks, sending
    """

    speech_ended_at: float
    decided_at: float
    segment: SegmentTimes | None
    tool_seconds_before: float
    said_at: float | None = None
    tool_s: float = 0.0
    tts_s: float | None = None

    def parts_ms(self, first_audio_at: float) -> dict[str, int]:
        total = first_audio_at - self.speech_ended_at
        results_at = self.segment.results_at if self.segment is not None else None
        if self.segment is None or results_at is None:
            stt, endpointing = 0.0, self.decided_at - self.speech_ended_at
        else:
            stt = max(0.0, results_at - self.segment.paused_at)
            endpointing = max(0.0, self.decided_at - self.speech_ended_at - stt)
        said_at = self.said_at if self.said_at is not None else first_audio_at
        brain = max(0.0, said_at - self.decided_at - self.tool_s)
        tts = self.tts_s or 0.0
        overhead = total - endpointing - stt - brain - self.tool_s - tts
        seconds = {
            "endpointing": endpointing,
            "stt": stt,
            "brain": brain,
            "tool": self.tool_s,
            "tts": tts,
            "overhead": overhead,
        }
        return {name: round(value * 1000) for name, value in seconds.items()}
