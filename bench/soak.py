"""Soak: back-to-back phone calls through the real app for a while, and whether its memory grows.

The app is `silentpartner serve` in its own process (SQLite, the default components: offline speech, the job
worker, the sweep; no Twilio account, unsigned webhooks on loopback); the Twilio side
(tests/support/twilio_caller.py) runs here. Each call: the voice webhook, the media websocket, the agent's
greeting, one caller line (synthesized speech), the agent's answer, the caller hangs up (a `stop`, then
Twilio's completed status callback). One call at a time, the next straight after, for `--minutes`.

After every call the server's resident memory (VmRSS from /proc) is read. The first calls load models and
fill caches, so the slope is fitted (least squares) over the calls after the first quarter (at least the
first three): KB per call and MB per hour of calls at this pace, with the RSS at the start and end of that
stretch. A flat line is the aim: memory per call is what a call leaves behind, not what it uses while it
runs. Fewer than 20 calls after warm-up (the quick run) get the slope but no verdict.

Run: python bench/soak.py [--minutes M] [--quick]   (default 10 minutes; --quick about 30 s)
`run(quick=False)` returns the figures as a dict (for bench/run_all.py). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from silentpartner.voice.speech import OfflineSpeech
from tests.support.caller_voice import caller_available, caller_says
from tests.support.serve_runner import ServeProcess
from tests.support.twilio_caller import TwilioCallerSim

BUSINESS_NUMBER = "+15035550100"
CALLERS = ("+15035550123", "+15035550124", "+15035550125", "+15035550126")
LINES = ("My kitchen faucet is leaking.", "The water heater is making a loud noise.", "Jordan Smith.")
FLAT_KB_PER_CALL = 64.0  # under this after warm-up, the line counts as flat
MIN_CALLS_TO_TELL = 20  # fewer calls after warm-up than this: allocator noise outweighs any trend
SPEED = 8.0  # the caller's audio is sent this much faster than real time (the server's work is the same)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


async def one_call(sim: TwilioCallerSim, n: int, audio: list[bytes]) -> None:
    placed = await sim.place_call(from_=CALLERS[n % len(CALLERS)], to=BUSINESS_NUMBER)
    if placed.stream_url is None:
        raise RuntimeError(f"call {n} was not connected: {placed.twiml}")
    started = time.monotonic()
    async with sim.connect(placed) as call:
        await call.agent_finished_turn(quiet=0.4, within=60)
        await call.say(audio[n % len(audio)])
        await call.agent_finished_turn(quiet=0.4, within=60)
        await call.stop()
    await sim.status_callback(placed.call_sid, "completed", max(1, round(time.monotonic() - started)))


async def soak(seconds: float) -> dict[str, object]:
    ok, why = OfflineSpeech.available()
    voice_ok, voice_why = caller_available()
    if not (ok and voice_ok):
        return {"not_run": f"offline speech unavailable: {why or voice_why}"}
    audio = [caller_says(line) for line in LINES]
    with tempfile.TemporaryDirectory() as folder:
        # INFO: readiness is the "Uvicorn running on" line.
        server = ServeProcess(Path(folder), {"LOG_LEVEL": "INFO", "TWILIO_ALLOW_UNSIGNED": "true"})
        server.env["PUBLIC_URL"] = server.url
        server.start()
        try:
            assert server.process is not None
            pid = server.process.pid
            sim = TwilioCallerSim(server.url, public_url=server.url, auth_token=None, speed=SPEED)
            start_rss = rss_kb(pid)
            samples: list[int] = []
            began = time.monotonic()
            while time.monotonic() - began < seconds or len(samples) < 4:
                await one_call(sim, len(samples), audio)
                samples.append(rss_kb(pid))
            elapsed = time.monotonic() - began
        finally:
            server.stop()
    calls = len(samples)
    settled = samples[max(calls // 4, 3) :]
    per_call = slope([float(i) for i in range(len(settled))], [float(s) for s in settled])
    calls_per_hour = calls / elapsed * 3600
    return {
        "seconds": elapsed,
        "calls": calls,
        "calls_per_min": calls / elapsed * 60,
        "rss_at_start_mb": start_rss / 1024,
        "rss_after_warmup_mb": settled[0] / 1024,
        "rss_at_end_mb": samples[-1] / 1024,
        "rss_peak_mb": max(samples) / 1024,
        "rss_slope_kb_per_call": per_call,
        "rss_slope_mb_per_hour": per_call * calls_per_hour / 1024,
        "calls_after_warmup": len(settled),
        # None: too few calls to tell (the quick run); otherwise whether the line is flat.
        "flat": per_call < FLAT_KB_PER_CALL if len(settled) >= MIN_CALLS_TO_TELL else None,
    }


def run(quick: bool = False) -> dict[str, object]:
    """The figures, for bench/run_all.py: about 30 s of calls when quick, else 10 minutes."""
    return asyncio.run(soak(30.0 if quick else 600.0))


def report(f: dict[str, object]) -> None:
    if "not_run" in f:
        print(f"Soak not run: {f['not_run']}")
        return
    print(f"Soak: {f['calls']} calls back to back in {f['seconds']:.0f} s ({f['calls_per_min']:.1f} a minute)")
    print(
        f"  server RSS: {f['rss_at_start_mb']:.0f} MB at start, {f['rss_after_warmup_mb']:.0f} MB after warm-up, "
        f"{f['rss_at_end_mb']:.0f} MB at the end (peak {f['rss_peak_mb']:.0f} MB)"
    )
    if f["flat"] is None:
        verdict = f"too few calls after warm-up to tell ({f['calls_after_warmup']}; {MIN_CALLS_TO_TELL} needed)"
    else:
        verdict = "flat" if f["flat"] else "GROWING"
    print(
        f"  RSS slope after warm-up: {f['rss_slope_kb_per_call']:+.1f} KB per call, "
        f"{f['rss_slope_mb_per_hour']:+.1f} MB per hour at this pace: {verdict} (flat is under "
        f"{FLAT_KB_PER_CALL:.0f} KB a call)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to keep calling (default 10)")
    parser.add_argument("--quick", action="store_true", help="about 30 s")
    args = parser.parse_args()
    report(asyncio.run(soak(30.0 if args.quick else args.minutes * 60)))


if __name__ == "__main__":
    main()
