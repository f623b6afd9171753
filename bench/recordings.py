"""Call recordings on this machine: size per minute and compression speed of each RECORDING_FORMAT.

Run: python bench/recordings.py [--minutes M] [--rounds N]

A conversation of synthesized turns (the test caller's voice, the agent's offline voice) is laid on a
call's timeline by the recording tap (`CallTape`, on a pinned clock), about M minutes of it, then
compressed by `compress` as a call's recording is. Twice: with digital silence on the caller's side
between turns (what the test line sends), and with the low noise a phone line carries (what Twilio sends).

Prints, per format and line: KB per minute of call, and compression speed as a multiple of real time
(best of N rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from silentpartner.voice.audio import FRAME_BYTES, PHONE_RATE, array_to_ulaw, split_frames
from silentpartner.voice.recording import CallTape
from silentpartner.voice.recording_files import FORMATS, compress
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import CALLER_TURNS, caller_says

REPLIES = (
    "Thanks for calling Mike's Plumbing, this is Sam. How can I help you today?",
    "I'm sorry to hear about the leak. I can send someone tomorrow at two in the afternoon. Does that work?",
    "Great. Can I have your name and the address of the job, please?",
    "You're all set for tomorrow at two. We'll text you a confirmation. Is there anything else?",
)
LINE_NOISE_DBFS = -55.0  # a quiet phone line's hiss, well under speech


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Kept(io.BytesIO):
    def close(self) -> None:
        self.kept = self.getvalue()
        super().close()


async def agent_lines() -> list[bytes]:
    speech = await OfflineSpeech.shared()
    lines = []
    for reply in REPLIES:
        lines.append(b"".join([chunk async for chunk in speech.synthesize(reply)]))
    return lines


def conversation(minutes: float, replies: list[bytes], noise: bool) -> tuple[bytes, bytes]:
    """The two raw tracks of a call of about `minutes`, turn after turn with 0.8 s pauses."""
    rng = np.random.default_rng(7)
    clock, caller, agent = Clock(), Kept(), Kept()
    tape = CallTape(caller, agent, began=0.0, monotonic=clock)
    hiss = array_to_ulaw(rng.normal(0, 32768 * 10 ** (LINE_NOISE_DBFS / 20), FRAME_BYTES).astype(np.int16))

    def caller_side(seconds: float, speech: bytes = b"") -> None:
        """The caller's speech, then `seconds` of their line: hiss every 20 ms, or nothing (a gap)."""
        frames = split_frames(speech, FRAME_BYTES) if speech else []
        frames += [hiss] * int(seconds * 50) if noise else []
        for frame in frames:
            tape.heard(frame, int(clock.t * 1000))
            clock.t += 0.02
        if not noise:
            clock.t += seconds

    turn = 0
    while clock.t < minutes * 60:
        reply = replies[turn % len(replies)]
        tape.sent(reply)  # sent at once; it plays for its length while the line carries the caller's side
        caller_side(len(reply) / PHONE_RATE + 0.8)
        caller_side(0.8, caller_says(CALLER_TURNS[turn % len(CALLER_TURNS)]))
        turn += 1
    tape.stop()
    return caller.kept, agent.kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    replies = asyncio.run(agent_lines())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for noise in (False, True):
            caller, agent = conversation(args.minutes, replies, noise)
            (root / "caller").write_bytes(caller)
            (root / "agent").write_bytes(agent)
            seconds = max(len(caller), len(agent)) / PHONE_RATE
            line = f"phone line noise {LINE_NOISE_DBFS:.0f} dBFS" if noise else "digital silence between turns"
            print(f"{seconds / 60:.1f} min call, {line}:")
            for format in FORMATS:
                best = float("inf")
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    compress(root / "caller", root / "agent", root / "out", format)
                    best = min(best, time.perf_counter() - started)
                size = (root / "out").stat().st_size
                print(
                    f"  {format:5s} {size / 1024 / (seconds / 60):7.0f} KB/min   "
                    f"compresses at {seconds / best:6.0f}x real time"
                )


if __name__ == "__main__":
    main()
