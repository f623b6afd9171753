"""Phone-call costs on this machine with the offline speech engine, all on loopback.

Run: python bench/voice.py [--levels 1,2,4,6,8,12] [--skip-concurrency] [--skip-old] [--quick]

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
  2. The concurrency curve under the call floor: 1, 2, 4, 6, 8 and 12 calls at once in one app process, each
     saying the same four lines one turn at a time. Per level: wire turn latency p50/p95 (the caller's last
     speech frame sent -> the first agent audio frame received), the server's own figure, caller frames the
     server handled late (more than 200 ms behind the line's clock: a real line would have lost them), and
     the turn latency breakdown (medians, from the app's `call.turn_latency` log lines): endpointing, STT
     (with the end-of-turn score), brain, tool, TTS first sentence, our own overhead; "early" counts the
     pauses whose transcript had started before the pause was certain. Then the targets:
     8 calls at wire p95 <= 1.5 s, one call at wire p50 <= 800 ms.
  3. Inbound and outbound cost per 20 ms frame (bench/frames.py), and one end-of-turn score.

The curve runs once with each Whisper window (speech/stt.py): "full", faster-whisper's exact decode (the
default), and "fit", about four times cheaper. `run(quick)` returns the figures as a dict (for
bench/run_all.py); quick runs only the curve at 1 and 2 calls with the full window, and the frame costs.
"""

from __future__ import annotations

import argparse
import asyncio
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import frames
import httpx
from sqlalchemy import select

from silentpartner.store.db import Database
from silentpartner.store.models import CallRecord
from silentpartner.voice.audio import phone_to_pcm16k
from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_pauses, caller_says, trim_silence
from tests.support.twilio_caller import TwilioCallerSim

BUSINESS_NUMBER = "+15035550100"
TURNS = ["My kitchen faucet is leaking.", "Jordan Smith.", "Yes.", "1234 Oak Street."]
LEVELS = (1, 2, 4, 6, 8, 12)
QUICK_LEVELS = (1, 2)
TARGET_CALLS, TARGET_P95_MS = 8, 1500  # issue 13: 8 concurrent calls at wire p95 <= 1.5 s on 2 cores ...
TARGET_ONE_P50_MS = 800  # ... and one call at p50 <= 800 ms
WINDOWS = ("full", "fit")
BREAKDOWN = ("endpointing", "stt", "brain", "tool", "tts", "overhead")
PLAYBACK_SPEED = 4.0  # the agent's audio plays out at the caller's end this much faster than real time
POLICY_ENV = "BENCH_TURN_POLICY"  # read by app_factory in the app process
WINDOW_ENV = "SPEECH_STT_WINDOW"  # the app's own setting: Whisper's window, "full" (the default) or "fit"
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


def whole_ms(value: float) -> int | None:
    """A figure in whole ms for the results; None when there was nothing to measure."""
    return None if value != value else round(value)  # NaN != NaN


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
    """The app under uvicorn in its own process; its JSON log (INFO) goes to `log_path`."""

    def __init__(self, workdir: str, policy: str = "weigh", window: str = "full") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PUBLIC_URL": self.url,
            "LOG_LEVEL": "INFO",
            "RUN_JOBS": "false",
            POLICY_ENV: policy,
            WINDOW_ENV: window,
        }
        for name in list(env):
            if name.startswith(("TWILIO_", "CALCOM_", "OPENAI_", "BUSINESS")):
                env.pop(name)
        env["TWILIO_ALLOW_UNSIGNED"] = "true"  # the simulated Twilio below posts unsigned, on loopback
        command = [sys.executable, "-m", "uvicorn", "--factory", "voice:app_factory"]
        command += ["--app-dir", str(Path(__file__).resolve().parent)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.log_path = Path(workdir) / "app.log"
        self._log = self.log_path.open("wb")
        self._log_read = 0
        self.process = subprocess.Popen(command, env=env, cwd=workdir, stdout=self._log, stderr=self._log)

    def new_log_entries(self) -> list[dict]:
        """The app's JSON log lines written since the last call."""
        with self.log_path.open("rb") as f:
            f.seek(self._log_read)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._log_read += len(complete)
        entries = []
        for line in complete.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # uvicorn's own plain lines
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

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
        self._log.close()


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


async def run_calls(app: AppProcess, audio: list[bytes], concurrent: int) -> tuple[list[float], list[float], list[str]]:
    """(server latencies, wire latencies, call sids) of `concurrent` calls placed at once."""
    sim = TwilioCallerSim(app.url, public_url=app.url, auth_token=None, speed=1.0)
    results = await asyncio.gather(*(one_call(sim, audio) for _ in range(concurrent)))
    sids = [sid for sid, _ in results]
    wire = [ms for _, latencies in results for ms in latencies]
    return await server_latencies(app.database_url, sids), wire, sids


def end_of_turn_score_ms() -> float | None:
    """One end-of-turn score on a 3 s turn, p50 of 10 (None without the model)."""
    engine = asyncio.run(OfflineSpeech.shared())
    if engine.turn_model_missing:
        return None
    turn = phone_to_pcm16k(caller_says("My kitchen faucet is leaking, can someone come tomorrow?"))
    asyncio.run(engine.end_of_turn(turn))  # the first run allocates
    times = []
    for _ in range(10):
        started = time.perf_counter()
        asyncio.run(engine.end_of_turn(turn))
        times.append((time.perf_counter() - started) * 1000)
    return pct(times, 0.5)


@dataclass
class Level:
    calls: int
    wire: list[float]
    server: list[float]
    frames_in: int
    frames_late: int
    early: int  # pauses whose transcript had started before the pause was certain
    parts: dict[str, list[float]]

    def figures(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "turns": len(self.wire),
            "wire_p50_ms": whole_ms(pct(self.wire, 0.5)),
            "wire_p95_ms": whole_ms(pct(self.wire, 0.95)),
            "server_p50_ms": whole_ms(pct(self.server, 0.5)),
            "server_p95_ms": whole_ms(pct(self.server, 0.95)),
            "frames_in": self.frames_in,
            "frames_late": self.frames_late,
            "early_transcripts": self.early,
            **{f"{name}_p50_ms": whole_ms(pct(values, 0.5)) for name, values in self.parts.items()},
        }


def measure_level(app: AppProcess, audio: list[bytes], calls: int) -> Level:
    app.new_log_entries()  # skip what came before
    server, wire, sids = asyncio.run(run_calls(app, audio, calls))
    entries = app.new_log_entries()
    deadline = time.monotonic() + 15
    ours = set(sids)

    def ended_calls() -> list[dict]:
        return [e for e in entries if e.get("event") == "call.ended" and e.get("call_sid") in ours]

    # A call's last log line (call.ended) is written as it closes, just after the caller hangs up.
    while len(ended_calls()) < calls and time.monotonic() < deadline:
        time.sleep(0.1)  # polling another process's log file; there is no event to wait on
        entries += app.new_log_entries()
    latencies = [e for e in entries if e.get("event") == "call.turn_latency" and e.get("call_sid") in ours]
    ended = ended_calls()
    parts = {name: [float(e[f"{name}_ms"]) for e in latencies if f"{name}_ms" in e] for name in BREAKDOWN}
    return Level(
        calls=calls,
        wire=wire,
        server=server,
        frames_in=sum(int(e.get("frames_in", 0)) for e in ended),
        frames_late=sum(int(e.get("frames_late", 0)) for e in ended),
        early=sum(int(e.get("early_transcripts", 0)) for e in ended),
        parts=parts,
    )


def print_curve(levels: list[Level], window: str) -> None:
    print(f"2. concurrent calls, call floor, Whisper window {window!r} (each call says 4 lines; breakdown medians, ms)")
    header = (
        f"   {'calls':>5} {'turns':>5} {'wire p50':>9} {'p95':>6} {'server p50':>11} {'p95':>6} {'late frames':>14}"
    )
    print(header + "".join(f"{name:>12}" for name in BREAKDOWN))
    for level in levels:
        f = {key: "-" if value is None else value for key, value in level.figures().items()}
        late = f"{level.frames_late}/{level.frames_in}"
        row = (
            f"   {level.calls:5d} {f['turns']:5d} {f['wire_p50_ms']:>9} {f['wire_p95_ms']:>6}"
            f" {f['server_p50_ms']:>11} {f['server_p95_ms']:>6} {late:>14} {level.early:6d}"
        )
        print(row + "".join(f"{f[f'{name}_p50_ms']:>12}" for name in BREAKDOWN))
    for line in targets(levels):
        print("   " + line)


def targets(levels: list[Level]) -> list[str]:
    by_calls = {level.calls: level for level in levels}
    out = []
    if 1 in by_calls:
        p50 = pct(by_calls[1].wire, 0.5)
        verdict = "met" if p50 <= TARGET_ONE_P50_MS else "NOT met"
        out.append(f"target one call wire p50 <= {TARGET_ONE_P50_MS} ms: {p50:.0f} ms, {verdict}")
    if TARGET_CALLS in by_calls:
        p95 = pct(by_calls[TARGET_CALLS].wire, 0.95)
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        out.append(f"target {TARGET_CALLS} calls wire p95 <= {TARGET_P95_MS} ms: {p95:.0f} ms, {verdict}")
    return out


def curve(levels: tuple[int, ...], window: str = "full") -> list[Level]:
    audio = [trimmed(caller_says(turn)) for turn in TURNS]
    with tempfile.TemporaryDirectory() as workdir:
        app = AppProcess(workdir, "weigh", window)
        try:
            app.wait_ready()
            asyncio.run(run_calls(app, audio[:1], 1))  # loads the models in the app process
            return [measure_level(app, audio, calls) for calls in levels]
        finally:
            app.stop()


def run(quick: bool = False) -> dict[str, object]:
    """The figures as a dict: the concurrency curve (1 and 2 calls when quick), frame costs, one score."""
    ok, why = OfflineSpeech.available()
    if not ok:
        raise RuntimeError(f"offline speech unavailable: {why}")
    figures: dict[str, object] = {}
    for window in ("full",) if quick else WINDOWS:
        levels = curve(QUICK_LEVELS if quick else LEVELS, window)
        figures[f"concurrency ({window} window)"] = [level.figures() for level in levels]
        figures[f"targets ({window} window)"] = targets(levels)
    return {
        **figures,
        "frames": frames.run(quick),
        "end_of_turn_score_ms": end_of_turn_score_ms(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent calls, comma-separated")
    parser.add_argument("--skip-concurrency", action="store_true")
    parser.add_argument("--skip-old", action="store_true", help="only the call floor in section 1")
    parser.add_argument("--skip-turn-taking", action="store_true", help="no section 1")
    parser.add_argument("--quick", action="store_true", help="only the curve at 1 and 2 calls, and frame costs")
    parser.add_argument("--window", choices=[*WINDOWS, "both"], default="both", help="Whisper's window for the curve")
    args = parser.parse_args()

    ok, why = OfflineSpeech.available()
    if not ok:
        sys.exit(f"offline speech unavailable: {why}")
    if not (args.quick or args.skip_turn_taking):
        single = [trimmed(caller_says(line)) for line in SINGLE_SENTENCES]
        pausing = [trimmed(caller_pauses(line)) for line in PAUSING_CALLERS]
        figures: dict[str, PolicyFigures] = {}
        for policy in ["weigh"] if args.skip_old else ["silence", "weigh"]:
            with tempfile.TemporaryDirectory() as workdir:
                app = AppProcess(workdir, policy)
                try:
                    app.wait_ready()
                    asyncio.run(run_calls(app, single[:1], 1))  # loads the models in the app process
                    figures[policy] = asyncio.run(turn_taking(app, single, pausing))
                finally:
                    app.stop()
        print(
            f"1. turn-taking, offline engine: {len(single)} single sentences, {len(pausing)} clause-pausing callers"
            " (700 ms at commas and after um)"
        )
        print_turn_taking(figures)
    if not args.skip_concurrency:
        levels = QUICK_LEVELS if args.quick else tuple(int(n) for n in args.levels.split(",") if n.strip())
        for window in WINDOWS if args.window == "both" else (args.window,):
            print_curve(curve(levels, window), window)
    costs = frames.run(args.quick)
    print("3. cost per 20 ms frame (bench/frames.py, best of rounds)")
    for label, value in costs.items():
        if label.endswith("µs"):
            print(f"   {label.removesuffix(', µs'):32} {value:8.1f} µs")
    score = end_of_turn_score_ms()
    print("   end-of-turn model, one score:    " + ("missing" if score is None else f"{score:8.1f} ms (p50 of 10)"))


if __name__ == "__main__":
    main()
