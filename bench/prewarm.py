"""Prewarm: time from Twilio's `start` to the agent's first audio byte, with the Realtime session opened at the
voice webhook versus opened when the stream starts.

Run: python bench/prewarm.py [--quick] [--calls N] [--connect-ms 300] [--stream-after-ms 250]

The app under uvicorn (pinned to one core, as in bench/relay.py) talks to a local Realtime server whose
websocket handshake takes `--connect-ms` (an API across the internet: TLS and the upgrade); the server starts
speaking as soon as it is asked for a response. Twilio's side posts the voice webhook, waits
`--stream-after-ms` (Twilio fetching the TwiML and opening its own websocket to us: a few hundred ms on a real
call) and starts the media stream. Prints p50 of each, and the ratio with/without.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import relay as relay_bench


async def first_audio_ms(procs: relay_bench.Processes, calls: int, stream_after_s: float) -> list[float]:
    out = []
    async with httpx.AsyncClient(timeout=30) as client:
        for number in range(calls):
            call = relay_bench.TwilioCall(number)
            await call.place(client, procs.url, stream_after=stream_after_s)
            try:
                await asyncio.wait_for(call.first_audio.wait(), 10)
                out.append((call.first_audio_at - call.started_at) * 1000)  # type: ignore[operator]
            except TimeoutError:
                print(f"call {number}: no agent audio within 10 s", flush=True)
            await call.hang_up()
            await asyncio.sleep(0.1)
    return out


def measure(prewarm: bool, calls: int, connect_s: float, stream_after_s: float) -> list[float]:
    with tempfile.TemporaryDirectory() as workdir:
        procs = relay_bench.Processes(workdir, connect_delay=connect_s, prewarm=prewarm)
        try:
            asyncio.run(first_audio_ms(procs, 1, stream_after_s))  # warm: imports and pools, not measured
            return asyncio.run(first_audio_ms(procs, calls, stream_after_s))
        finally:
            procs.stop()


def run(
    quick: bool = False, calls: int | None = None, connect_ms: float = 300.0, stream_after_ms: float = 250.0
) -> dict[str, object]:
    calls = calls or (3 if quick else 10)
    without = measure(False, calls, connect_ms / 1000, stream_after_ms / 1000)
    with_ = measure(True, calls, connect_ms / 1000, stream_after_ms / 1000)
    p_without, p_with = relay_bench.pct(without, 0.5), relay_bench.pct(with_, 0.5)
    print(f"Realtime connect {connect_ms:g} ms, stream starts {stream_after_ms:g} ms after the webhook, {calls} calls")
    print(
        f"start -> first agent audio, p50: without prewarm {p_without:.0f} ms, with prewarm {p_with:.0f} ms "
        f"(with/without {p_with / p_without:.2f})"
    )
    print(f"  without: {', '.join(f'{ms:.0f}' for ms in without)}")
    print(f"  with:    {', '.join(f'{ms:.0f}' for ms in with_)}")
    return {
        # run_all pairs *_before / *_after: before = without prewarm, after = with it.
        "first_audio_p50_ms_before": round(p_without, 1),
        "first_audio_p50_ms_after": round(p_with, 1),
        "first_audio_max_ms_before": round(max(without), 1),
        "first_audio_max_ms_after": round(max(with_), 1),
        "ratio_with_over_without": round(p_with / p_without, 3),
        "connect_ms": connect_ms,
        "stream_after_ms": stream_after_ms,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--calls", type=int)
    parser.add_argument("--connect-ms", type=float, default=300.0)
    parser.add_argument("--stream-after-ms", type=float, default=250.0)
    args = parser.parse_args(argv)
    return run(args.quick, args.calls, args.connect_ms, args.stream_after_ms)


if __name__ == "__main__":
    main()
