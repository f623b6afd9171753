"""Phone-call costs on this machine with the offline speech engine, all on loopback.

Run: python bench/voice.py [--calls N] [--max-concurrent N] [--skip-concurrency]

The app runs in its own process (uvicorn, the default components, SQLite, no Twilio account, so the
media websocket is reached on loopback); the Twilio side (tests/support/twilio_caller.py) runs here and
streams synthesized caller turns as 20 ms μ-law frames at real-time pacing, echoing marks like Twilio.

Prints
  1. Turn latency, p50/p95, two ways:
     - server: the VAD ends the caller's turn -> first agent audio byte sent (what the call records);
     - wire: the caller's last speech frame sent -> first agent audio frame received (adds the VAD's
       end-of-turn silence, 600 ms, which no pipeline can avoid without guessing).
  2. Concurrent calls one process holds before the server turn latency p95 passes 2 s (levels 1, 2, 4, ...
     up to --max-concurrent; stops at the first level over the line).
  3. Codec and relay cost per 20 ms frame, in µs: parse an inbound media frame; parse + VAD (the server's
     whole inbound work per frame); build an outbound media frame with its mark.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice.audio import FRAME_BYTES, is_silent, split_frames
from silentpartner.voice.codec import MediaStreamCodec
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_says, silence
from tests.support.twilio_caller import TwilioCallerSim

BUSINESS_NUMBER = "+15035550100"
TURNS = ["My kitchen faucet is leaking.", "Jordan Smith.", "Yes.", "1234 Oak Street."]
P95_LIMIT_MS = 2000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def trimmed(ulaw: bytes) -> bytes:
    """The caller's audio without the synthesizer's trailing silence, so "end of speech" is the last word."""
    frames = split_frames(ulaw, FRAME_BYTES)
    while frames and is_silent(frames[-1], threshold_dbfs=-45.0):
        frames.pop()
    return b"".join(frames)


def summary(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):6.0f} ms  p95 {pct(values, 0.95):6.0f} ms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    def __init__(self, workdir: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PUBLIC_URL": self.url,
            "LOG_LEVEL": "WARNING",
            "RUN_JOBS": "false",
        }
        for name in list(env):
            if name.startswith(("TWILIO_", "CALCOM_", "OPENAI_", "BUSINESS")):
                env.pop(name)
        env["TWILIO_ALLOW_UNSIGNED"] = "true"  # the simulated Twilio below posts unsigned, on loopback
        command = [sys.executable, "-m", "uvicorn", "--factory", "silentpartner.app:create_app"]
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
    print("3. codec and relay cost per 20 ms frame")
    print(f"   parse inbound media frame:            {parse_us:8.1f} µs")
    print(f"   parse + VAD (server inbound work):     {relay_in_us:8.1f} µs")
    print(f"   build outbound media + mark:           {build_us:8.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2, help="sequential calls for the latency numbers")
    parser.add_argument("--max-concurrent", type=int, default=8)
    parser.add_argument("--skip-concurrency", action="store_true")
    args = parser.parse_args()

    ok, why = OfflineSpeech.available()
    if not ok:
        sys.exit(f"offline speech unavailable: {why}")
    audio = [trimmed(caller_says(turn)) for turn in TURNS]
    with tempfile.TemporaryDirectory() as workdir:
        app = AppProcess(workdir)
        try:
            app.wait_ready()
            asyncio.run(run_calls(app, audio[:1], 1))  # loads the models in the app process
            server: list[float] = []
            wire: list[float] = []
            for _ in range(args.calls):
                s, w = asyncio.run(run_calls(app, audio, 1))
                server += s
                wire += w
            print(f"1. turn latency, offline engine, {len(server)} turns over {args.calls} call(s)")
            print(f"   server (VAD end of turn -> first agent byte):   {summary(server)}")
            print(f"   wire (last caller speech frame -> first frame): {summary(wire)}")
            if not args.skip_concurrency:
                print(f"2. concurrent calls before server turn latency p95 passes {P95_LIMIT_MS} ms")
                held = 0
                level = 1
                while level <= args.max_concurrent:
                    s, w = asyncio.run(run_calls(app, audio, level))
                    p95 = pct(s, 0.95)
                    print(
                        f"   {level:3d} calls: server p50 {pct(s, 0.5):6.0f} p95 {p95:6.0f} ms;"
                        f" wire p50 {pct(w, 0.5):6.0f} p95 {pct(w, 0.95):6.0f} ms ({len(s)} turns)"
                    )
                    if p95 > P95_LIMIT_MS:
                        break
                    held = level
                    level = level + 1 if level < 4 else level + 2
                print(f"   held: {held} concurrent call(s) with p95 under {P95_LIMIT_MS} ms")
        finally:
            app.stop()
    frame_costs()


if __name__ == "__main__":
    main()
