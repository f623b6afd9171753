"""Phone-call costs on this machine with the offline speech engine, all on loopback.

Run: python bench/voice.py [--max-concurrent N] [--skip-concurrency] [--skip-old]

The app runs in its own process (uvicorn, the default components, SQLite, no Twilio account, so the
media websocket is reached on loopback); the Twilio side (tests/support/twilio_caller.py) runs here and
streams synthesized caller speech as 20 ms μ-law frames at real-time pacing, echoing marks like Twilio
(the agent's audio is played out at 4x to save time; that changes nothing the server measures).

Prints
  1. Turn-taking, side by side: the old policy (every 500 ms pause ends the caller's turn) and the call
     floor (`voice/floor.py`: 250 ms pauses, the words so far and the end-of-turn model decide), each in
     its own app process, on two sets of caller lines said one per turn:
     - single sentences, said without a pause;
     - clause-pausing callers, 700 ms of silence at each comma and after each "um".
     For each: wire turn latency p50/p95 (the caller's last speech frame sent -> the first agent audio
     frame received after it) and talk-overs (lines during which agent audio arrived before the caller's
     last speech frame); for single sentences also the server latency the call records (end of the
     caller's speech -> first agent audio byte sent).
  2. Concurrent calls one process holds before the server turn latency p95 passes 2 s, under each policy
     (levels 1, 2, 4, ... up to --max-concurrent; stops at the first level over the line).
  3. Codec and relay cost per 20 ms frame, in µs (parse an inbound media frame; parse + VAD, the server's
     whole inbound work per frame; build an outbound media frame with its mark), and one end-of-turn score.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice.audio import FRAME_BYTES, phone_to_pcm16k, split_frames
from silentpartner.voice.codec import MediaStreamCodec
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_pauses, caller_says, silence, trim_silence
from tests.support.twilio_caller import TwilioCallerSim

BUSINESS_NUMBER = "+15035550100"
TURNS = ["My kitchen faucet is leaking.", "Jordan Smith.", "Yes.", "1234 Oak Street."]
P95_LIMIT_MS = 2000
PLAYBACK_SPEED = 4.0  # the agent's audio plays out at the caller's end this much faster than real time
POLICY_ENV = "BENCH_TURN_POLICY"  # read by app_factory in the app process
POLICIES = {"silence": "old: 500 ms pause", "weigh": "call floor"}

SINGLE_SENTENCES = [
    "My kitchen faucet is leaking.",
    "Jordan Smith.",
    "Yes.",
    "1234 Oak Street.",
    "Can someone come tomorrow at two?",
    "The water heater is making a loud noise.",
    "I'd like to book a service call.",
    "Is there anything available on Friday morning?",
    "The toilet in the upstairs bathroom is clogged.",
    "No, the afternoon is better.",
    "How much is the call out fee?",
    "There is water all over the basement floor.",
]
# Mid-sentence pauses: 700 ms at each comma and after each "um"/"uh" (see caller_voice.caller_pauses).
PAUSING_CALLERS = [
    "Hi, yeah, I'm calling because, um, my water heater, it's making a banging noise.",
    "So the thing is, the kitchen sink, it's been draining really slowly.",
    "I was hoping, uh, that someone could come out on Thursday afternoon.",
    "My toilet upstairs, it keeps running all night.",
    "We have a leak under the, um, the bathroom sink.",
    "I need, um, a plumber to look at my, my garbage disposal.",
    "The shower, it's got almost no pressure since last week.",
    "Yeah, so, the pipe under the house, I think it burst.",
    "My name is, um, Jordan Smith.",
    "Can someone come out and, um, take a look at the water heater?",
    "The address is, 1234 Oak Street.",
    "And I'm calling because, the dishwasher, it won't drain.",
]


def app_factory():
    """The app with the turn-taking policy named in $BENCH_TURN_POLICY (uvicorn --factory, in the app process)."""
    from silentpartner.app import create_app, default_components
    from silentpartner.voice.call import TIMING_SERVICE, CallTiming

    timing = CallTiming.silence_only() if os.environ.get(POLICY_ENV) == "silence" else CallTiming()

    class TimingComponent:
        async def start(self, runtime) -> None:
            runtime.services[TIMING_SERVICE] = timing

        async def stop(self) -> None:
            return None

    return create_app(components=lambda: [TimingComponent(), *default_components()])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def trimmed(ulaw: bytes) -> bytes:
    """The caller's audio without the synthesizer's trailing silence, so "end of speech" is the last word."""
    return trim_silence(ulaw, start=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    def __init__(self, workdir: str, policy: str = "weigh") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PUBLIC_URL": self.url,
            "LOG_LEVEL": "WARNING",
            "RUN_JOBS": "false",
            POLICY_ENV: policy,
        }
        for name in list(env):
            if name.startswith(("TWILIO_", "CALCOM_", "OPENAI_", "BUSINESS")):
                env.pop(name)
        env["TWILIO_ALLOW_UNSIGNED"] = "true"  # the simulated Twilio below posts unsigned, on loopback
        command = [sys.executable, "-m", "uvicorn", "--factory", "voice:app_factory"]
        command += ["--app-dir", str(Path(__file__).resolve().parent)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, env=env, cwd=workdir, stderr=subprocess.DEVNULL)

    def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the app exited during startup")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling a process we started; there is no event to wait on across processes
        raise RuntimeError("the app did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def one_call(sim: TwilioCallerSim, audio: list[bytes]) -> tuple[str, list[float]]:
    """Place a call, speak every turn after the agent finishes, return (call sid, wire latencies in ms)."""
    placed = await sim.place_call(from_="+15035550123", to=BUSINESS_NUMBER)
    if placed.stream_url is None:
        raise RuntimeError(f"the call was not connected: {placed.twiml}")
    wire: list[float] = []
    async with sim.connect(placed) as call:
        await call.agent_finished_turn(quiet=0.5, within=60)
        for turn in audio:
            before = call.media_count
            ended = await call.say(turn, trailing_silence_ms=900)
            await call.agent_finished_turn(quiet=0.5, within=60)
            first = next((t for t in call.media_times[before:] if t >= ended), None)
            if first is not None:
                wire.append((first - ended) * 1000)
    return placed.call_sid, wire


@dataclass
class Line:
    wire_ms: float | None  # last speech frame sent -> first agent audio frame after it (None: no answer)
    talked_over: bool  # agent audio arrived while the caller was still saying the line


async def say_lines(sim: TwilioCallerSim, lines: list[bytes]) -> tuple[list[str], list[Line]]:
    """Say each line as one caller turn, waiting for the agent's answer in between; a call that ends is
    replaced by a new one. Returns (call sids, one result per line)."""
    sids: list[str] = []
    results: list[Line] = []
    pending = list(lines)
    while pending:
        placed = await sim.place_call(from_="+15035550123", to=BUSINESS_NUMBER)
        if placed.stream_url is None:
            raise RuntimeError(f"the call was not connected: {placed.twiml}")
        sids.append(placed.call_sid)
        async with sim.connect(placed) as call:
            await call.agent_finished_turn(quiet=0.5, within=60)
            while pending and not call.closed.is_set():
                before = call.media_count
                ended = await call.say(pending.pop(0), trailing_silence_ms=900, speed=1.0)
                first_frame, _ = call.caller_spans[-1]
                talked_over = call.agent_media_between(first_frame, ended) > 0
                try:
                    await call.agent_finished_turn(quiet=0.5, within=60)
                except TimeoutError:
                    pass
                first = next((t for t in call.media_times[before:] if t > ended), None)
                results.append(Line(None if first is None else (first - ended) * 1000, talked_over))
    return sids, results


@dataclass
class PolicyFigures:
    single: list[Line]
    single_server: list[float]
    pausing: list[Line]


async def turn_taking(app: AppProcess, single: list[bytes], pausing: list[bytes]) -> PolicyFigures:
    sim = TwilioCallerSim(app.url, public_url=app.url, auth_token=None, speed=PLAYBACK_SPEED)
    sids, single_lines = await say_lines(sim, single)
    _, pausing_lines = await say_lines(sim, pausing)
    return PolicyFigures(single_lines, await server_latencies(app.database_url, sids), pausing_lines)


def wire(lines: list[Line]) -> str:
    values = [line.wire_ms for line in lines if line.wire_ms is not None]
    missing = len(lines) - len(values)
    text = f"{pct(values, 0.5):5.0f} / {pct(values, 0.95):5.0f} ms"
    return text + (f" ({missing} unanswered)" if missing else "")


def print_turn_taking(figures: dict[str, PolicyFigures]) -> None:
    names = list(figures)
    rows = [
        ("single sentences: wire p50 / p95", lambda f: wire(f.single)),
        (
            "single sentences: server p50 / p95",
            lambda f: f"{pct(f.single_server, 0.5):5.0f} / {pct(f.single_server, 0.95):5.0f} ms",
        ),
        ("single sentences: talk-overs", lambda f: f"{sum(x.talked_over for x in f.single)} of {len(f.single)}"),
        ("pausing callers: wire p50 / p95", lambda f: wire(f.pausing)),
        ("pausing callers: talk-overs", lambda f: f"{sum(x.talked_over for x in f.pausing)} of {len(f.pausing)}"),
    ]
    print(f"   {'':38}" + "".join(f"{POLICIES[name]:>24}" for name in names))
    for label, cell in rows:
        print(f"   {label:38}" + "".join(f"{cell(figures[name]):>24}" for name in names))
    for name in names:
        over = [text for text, line in zip(PAUSING_CALLERS, figures[name].pausing, strict=True) if line.talked_over]
        for text in over:
            print(f"   talked over ({POLICIES[name]}): {text}")


async def server_latencies(database_url: str, sids: list[str]) -> list[float]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            rows = list(await session.scalars(select(CallRecord).where(CallRecord.sid.in_(sids))))
    finally:
        await db.close()
    return [float(ms) for row in rows for ms in row.latencies_ms or []]  # one per caller turn answered


async def run_calls(app: AppProcess, audio: list[bytes], concurrent: int) -> tuple[list[float], list[float]]:
    sim = TwilioCallerSim(app.url, public_url=app.url, auth_token=None, speed=1.0)
    results = await asyncio.gather(*(one_call(sim, audio) for _ in range(concurrent)))
    sids = [sid for sid, _ in results]
    wire = [ms for _, latencies in results for ms in latencies]
    return await server_latencies(app.database_url, sids), wire


def frame_costs() -> None:
    codec = MediaStreamCodec()
    codec.receive(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    codec.receive(
        json.dumps(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {"streamSid": "MZ" + "a" * 32, "callSid": "CA" + "b" * 32, "customParameters": {}},
                "streamSid": "MZ" + "a" * 32,
            }
        )
    )
    speech_audio = caller_says("My kitchen faucet is leaking, can someone come tomorrow?") + silence(800)
    frames = [
        json.dumps(
            {
                "event": "media",
                "sequenceNumber": str(i + 2),
                "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20), "payload": payload},
                "streamSid": "MZ" + "a" * 32,
            }
        )
        for i, payload in enumerate(base64.b64encode(f).decode() for f in split_frames(speech_audio, FRAME_BYTES))
    ]
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for frame in frames:
            codec.receive(frame)
    parse_us = (time.perf_counter() - start) / (rounds * len(frames)) * 1e6

    engine = asyncio.run(OfflineSpeech.shared())
    vad = engine.new_vad()
    start = time.perf_counter()
    for _ in range(5):
        for frame in frames:
            event = codec.receive(frame)
            vad.feed(event.payload)  # type: ignore[union-attr]
    relay_in_us = (time.perf_counter() - start) / (5 * len(frames)) * 1e6

    out = b"\xff" * FRAME_BYTES
    count = 5000
    start = time.perf_counter()
    for _ in range(count):
        codec.send_audio(out)
    build_us = (time.perf_counter() - start) / count * 1e6
    turn = phone_to_pcm16k(speech_audio)
    asyncio.run(engine.end_of_turn(turn))  # the first run allocates
    scores = []
    for _ in range(10):
        start = time.perf_counter()
        asyncio.run(engine.end_of_turn(turn))
        scores.append((time.perf_counter() - start) * 1000)
    print("3. codec and relay cost per 20 ms frame")
    print(f"   parse inbound media frame:            {parse_us:8.1f} µs")
    print(f"   parse + VAD (server inbound work):     {relay_in_us:8.1f} µs")
    print(f"   build outbound media + mark:           {build_us:8.1f} µs")
    if engine.turn_model_missing:
        print(f"   end-of-turn model: missing ({engine.turn_model_missing})")
    else:
        print(f"   end-of-turn model, one score:          {pct(scores, 0.5):8.1f} ms (p50 of 10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-concurrent", type=int, default=8)
    parser.add_argument("--skip-concurrency", action="store_true")
    parser.add_argument("--skip-old", action="store_true", help="only the call floor in section 1")
    args = parser.parse_args()

    ok, why = OfflineSpeech.available()
    if not ok:
        sys.exit(f"offline speech unavailable: {why}")
    audio = [trimmed(caller_says(turn)) for turn in TURNS]
    single = [trimmed(caller_says(line)) for line in SINGLE_SENTENCES]
    pausing = [trimmed(caller_pauses(line)) for line in PAUSING_CALLERS]
    figures: dict[str, PolicyFigures] = {}
    held: list[str] = []
    for policy in ["weigh"] if args.skip_old else ["silence", "weigh"]:
        with tempfile.TemporaryDirectory() as workdir:
            app = AppProcess(workdir, policy)
            try:
                app.wait_ready()
                asyncio.run(run_calls(app, audio[:1], 1))  # loads the models in the app process
                figures[policy] = asyncio.run(turn_taking(app, single, pausing))
                if not args.skip_concurrency:
                    held += concurrency(app, audio, args.max_concurrent, POLICIES[policy])
            finally:
                app.stop()
    print(
        f"1. turn-taking, offline engine: {len(single)} single sentences, {len(pausing)} clause-pausing callers"
        " (700 ms at commas and after um)"
    )
    print_turn_taking(figures)
    for line in held:
        print(line)
    frame_costs()


def concurrency(app: AppProcess, audio: list[bytes], max_concurrent: int, policy: str) -> list[str]:
    out = [f"2. concurrent calls ({policy}) before server turn latency p95 passes {P95_LIMIT_MS} ms"]
    held = 0
    level = 1
    while level <= max_concurrent:
        s, w = asyncio.run(run_calls(app, audio, level))
        p95 = pct(s, 0.95)
        out.append(
            f"   {level:3d} calls: server p50 {pct(s, 0.5):6.0f} p95 {p95:6.0f} ms;"
            f" wire p50 {pct(w, 0.5):6.0f} p95 {pct(w, 0.95):6.0f} ms ({len(s)} turns)"
        )
        if p95 > P95_LIMIT_MS:
            break
        held = level
        level = level + 1 if level < 4 else level + 2
    out.append(f"   held: {held} concurrent call(s) with p95 under {P95_LIMIT_MS} ms")
    return out


if __name__ == "__main__":
    main()
