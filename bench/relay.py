"""The Realtime relay under load: how many calls one app process on one core carries in time.

Run: python bench/relay.py [--quick] [--levels 25,50,100,150,200,250] [--window S]

Three processes: the app under uvicorn (uvloop + httptools) pinned to core 0, holding every call's two sockets;
a local Realtime server that answers each call with audio deltas of 100-200 ms at real time (OpenAI's size)
and takes the caller's audio appends; and the Twilio side here, one media websocket per call sending a 20 ms
frame every 20 ms and echoing each mark when its audio has played. The last two share the other core(s).

Every frame carries its send time (CLOCK_MONOTONIC, which all processes on the machine share): the server
measures caller -> app -> server (up), this side measures server -> app -> Twilio (down). The ramp adds calls
level by level and, at each, measures for a window: up and down p50/p99, the round trip (an up and a down
sample added, p50/p99), frames lost (sent but never relayed) and late (one way over 20 ms), the app's CPU per
call (share of one core) and memory per call (RSS growth over the process with no calls, divided by calls).

The target is at least 200 calls with round-trip p99 under 20 ms and nothing lost or late.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
import websockets

LEVELS = (25, 50, 100, 150, 200, 250)
QUICK_LEVELS = (10, 25)
FRAME_MS = 20
FRAME_BYTES = 160
STAMP = struct.Struct("<qI")  # send time (ns, monotonic), call number
TARGET_P99_MS = 20.0
BUSINESS_NUMBER = "+15035550100"
APP_CORE = 0
WS_IMPL = os.environ.get("BENCH_WS", "websockets-sansio")  # uvicorn's websocket implementation


# -- the local Realtime server (its own process: python bench/relay.py --serve-realtime) ----------------


class RealtimeStats:
    def __init__(self) -> None:
        self.up_ms: list[float] = []
        self.frames = 0
        self.deltas = 0

    def take(self) -> dict[str, object]:
        out = {"up_ms": self.up_ms, "frames": self.frames, "deltas": self.deltas}
        self.up_ms, self.frames, self.deltas = [], 0, 0
        return out


async def serve_realtime(port_file: str, connect_delay: float = 0.0) -> None:
    from websockets.asyncio.server import serve

    stats = RealtimeStats()

    async def talk(ws, item: str) -> None:
        """One long answer: deltas of 100-200 ms, paced at real time, each stamped with its send time."""
        rng = random.Random(hash(item))
        due = time.monotonic()
        while True:
            ms = rng.randint(100, 200)
            due += ms / 1000
            audio = STAMP.pack(time.monotonic_ns(), 0) + b"\xff" * (ms * 8 - STAMP.size)
            event = {
                "type": "response.output_audio.delta",
                "response_id": "resp_1",
                "item_id": item,
                "output_index": 0,
                "content_index": 0,
                "delta": base64.b64encode(audio).decode(),
            }
            await ws.send(orjson.dumps(event).decode())
            stats.deltas += 1
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def session(ws) -> None:
        if ws.request.path.startswith("/stats"):
            await ws.send(orjson.dumps(stats.take()).decode())
            return
        await ws.send('{"type":"session.created","session":{"type":"realtime"}}')
        talking = None
        try:
            async for raw in ws:
                event = orjson.loads(raw)
                kind = event.get("type")
                if kind == "input_audio_buffer.append":
                    sent_ns, _ = STAMP.unpack_from(base64.b64decode(event["audio"][:16]))
                    stats.up_ms.append((time.monotonic_ns() - sent_ns) / 1e6)
                    stats.frames += 1
                elif kind == "response.create" and talking is None:
                    await ws.send('{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}')
                    talking = asyncio.create_task(talk(ws, f"item_{id(ws)}"))
                elif kind == "session.update":
                    await ws.send('{"type":"session.updated","session":{"type":"realtime"}}')
        except websockets.ConnectionClosed:
            pass
        finally:
            if talking is not None:
                talking.cancel()

    async def slow_handshake(connection, request):
        if connect_delay:
            await asyncio.sleep(connect_delay)
        return None

    async with serve(session, "127.0.0.1", 0, max_size=None, compression=None, process_request=slow_handshake) as srv:
        port = str(next(iter(srv.sockets)).getsockname()[1])
        await asyncio.to_thread(_write_atomically, Path(port_file), port)
        await asyncio.Future()


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)


# -- the app (uvicorn --factory relay:app_factory) --------------------------------------------------------


def app_factory():
    """The app without the offline speech models (their loading would cost the app's core nothing to do with
    relaying; a call that falls back to offline is not what this measures)."""
    from silentpartner.app import create_app, default_components
    from silentpartner.voice.warmup import VoiceComponent

    return create_app(components=lambda: [c for c in default_components() if not isinstance(c, VoiceComponent)])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cores() -> tuple[set[int] | None, set[int] | None]:
    """(the app's core, everyone else's), or (None, None) on a machine with one core."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return {available[APP_CORE]}, set(available) - {available[APP_CORE]}


class Processes:
    """The app and the local Realtime server, started and stopped together."""

    def __init__(
        self, workdir: str, *, connect_delay: float = 0.0, prewarm: bool = True, pin: bool = True, ws: str = WS_IMPL
    ) -> None:
        app_core, other = cores() if pin else (None, None)
        self._affinity = os.sched_getaffinity(0)  # given back at stop(): a runner goes on to other benches
        if other:
            os.sched_setaffinity(0, other)
        port_file = Path(workdir) / "realtime.port"
        here = Path(__file__).resolve()
        self.realtime = subprocess.Popen(
            [sys.executable, str(here), "--serve-realtime", str(port_file), "--connect-delay", str(connect_delay)]
        )
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or self.realtime.poll() is not None:
                self.realtime.kill()
                os.sched_setaffinity(0, self._affinity)
                raise RuntimeError("the local Realtime server did not start")
            time.sleep(0.05)  # another process: there is nothing to await
        self.realtime_port = int(port_file.read_text())
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "CALCOM_", "OPENAI_", "BUSINESS"))}
        env.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/bench.db",
            PUBLIC_URL=self.url,
            LOG_LEVEL="WARNING",
            RUN_JOBS="false",
            TWILIO_ALLOW_UNSIGNED="true",  # the Twilio side below posts unsigned, on loopback
            OPENAI_API_KEY="sk-bench",
            OPENAI_REALTIME_URL=f"ws://127.0.0.1:{self.realtime_port}/v1",
            REALTIME_PREWARM="true" if prewarm else "false",
        )
        command = [sys.executable, "-m", "uvicorn", "--factory", "relay:app_factory", "--app-dir", str(here.parent)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        command += ["--loop", "uvloop", "--http", "httptools", "--ws", ws]
        pin_app = (lambda: os.sched_setaffinity(0, app_core)) if app_core else None
        self.app = subprocess.Popen(command, env=env, cwd=workdir, preexec_fn=pin_app)
        self.pinned = app_core is not None
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.app.poll() is not None:
                self.stop()
                raise RuntimeError("the app did not become ready")
            time.sleep(0.1)

    def cpu_seconds(self, pid: int | None = None) -> float:
        return cpu_seconds(pid or self.app.pid)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.app.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    async def realtime_stats(self) -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{self.realtime_port}/stats", max_size=None) as ws:
            return orjson.loads(await ws.recv())

    def stop(self) -> None:
        for process in (self.app, self.realtime):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        os.sched_setaffinity(0, self._affinity)


# -- the Twilio side ------------------------------------------------------------------------------------------


class TwilioCall:
    """One call's media websocket, as Twilio holds it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.ws = None
        self.stream_sid = f"MZ{number:032x}"
        self.call_sid = f"CA{random.getrandbits(128):032x}"
        self.sent = 0
        self.first_audio_at: float | None = None
        self.first_audio = asyncio.Event()
        self._echoes: set[asyncio.Task] = set()
        self.started_at = 0.0
        self.down_ms: list[float] = []
        self.audio_bytes = 0
        self.reader: asyncio.Task | None = None

    async def place(self, client: httpx.AsyncClient, url: str, *, stream_after: float = 0.0) -> None:
        """The voice webhook, then (`stream_after` seconds later, as Twilio takes to fetch and connect) the stream."""
        form = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": "+15035550123",
            "To": BUSINESS_NUMBER,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        response = await client.post(url + "/twilio/voice", data=form)
        token = response.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        if stream_after:
            await asyncio.sleep(stream_after)
        self.ws = await websockets.connect(url.replace("http", "ws") + "/twilio/media", max_size=None, compression=None)
        await self.ws.send(orjson.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}).decode())
        self.started_at = time.monotonic()
        start = {
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "accountSid": "AC" + "0" * 32,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"token": token, "call_sid": self.call_sid},
        }
        await self.ws.send(
            orjson.dumps(
                {"event": "start", "sequenceNumber": "1", "start": start, "streamSid": self.stream_sid}
            ).decode()
        )
        self.reader = asyncio.create_task(self._receive())

    def frame(self) -> str:
        self.sent += 1
        audio = STAMP.pack(time.monotonic_ns(), self.number) + b"\xff" * (FRAME_BYTES - STAMP.size)
        return orjson.dumps(
            {
                "event": "media",
                "streamSid": self.stream_sid,
                "media": {
                    "track": "inbound",
                    "chunk": str(self.sent),
                    "timestamp": str(self.sent * 20),
                    "payload": base64.b64encode(audio).decode(),
                },
            }
        ).decode()

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        playing_until = 0.0
        try:
            async for raw in self.ws:
                message = orjson.loads(raw)
                event = message.get("event")
                if event == "media":
                    audio = base64.b64decode(message["media"]["payload"])
                    now = time.monotonic()
                    if self.first_audio_at is None:
                        self.first_audio_at = now
                        self.first_audio.set()
                    sent_ns, _ = STAMP.unpack_from(audio)
                    self.down_ms.append((time.monotonic_ns() - sent_ns) / 1e6)
                    self.audio_bytes += len(audio)
                    playing_until = max(playing_until, now) + len(audio) / 8000
                elif event == "mark":  # echoed when the audio before it has played, as Twilio does
                    name = message["mark"]["name"]
                    echo = orjson.dumps(
                        {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
                    ).decode()
                    loop.call_later(max(0.0, playing_until - time.monotonic()), self._echo, echo)
        except websockets.ConnectionClosed:
            pass

    def _echo(self, echo: str) -> None:
        task = asyncio.ensure_future(self._send_quietly(echo))
        self._echoes.add(task)
        task.add_done_callback(self._echoes.discard)

    async def _send_quietly(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except websockets.ConnectionClosed:
            pass

    async def hang_up(self) -> None:
        try:
            await self.ws.send(
                orjson.dumps(
                    {
                        "event": "stop",
                        "sequenceNumber": "9",
                        "streamSid": self.stream_sid,
                        "stop": {"callSid": self.call_sid},
                    }
                ).decode()
            )
            await self.ws.close()
        except websockets.ConnectionClosed:
            pass
        if self.reader is not None:
            self.reader.cancel()


async def pacer(calls: list[TwilioCall], stop: asyncio.Event) -> None:
    """Every 20 ms, a frame on every call (one timer for all calls, as cheap as a load generator can be)."""
    due = time.monotonic()
    while not stop.is_set():
        for call in list(calls):
            try:
                await call.ws.send(call.frame())
            except websockets.ConnectionClosed:
                pass
        due += FRAME_MS / 1000
        await asyncio.sleep(max(0.0, due - time.monotonic()))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def ramp(procs: Processes, levels: tuple[int, ...], window: float, settle: float) -> list[dict]:
    calls: list[TwilioCall] = []
    stop = asyncio.Event()
    rows = []
    async with httpx.AsyncClient(timeout=30) as client:
        # One call first and gone: the modules and pools every call uses are loaded before the baseline.
        warm = TwilioCall(10_000)
        await warm.place(client, procs.url)
        await asyncio.sleep(0.5)
        await warm.hang_up()
        await asyncio.sleep(0.5)
        rss0 = procs.rss_kb()
        ticking = None
        for level in levels:
            while len(calls) < level:
                call = TwilioCall(len(calls))
                await call.place(client, procs.url)
                calls.append(call)
                if ticking is None:
                    ticking = asyncio.create_task(pacer(calls, stop))
            await asyncio.sleep(settle)
            await procs.realtime_stats()  # start the window clean
            for call in calls:
                call.down_ms.clear()
            sent_before = sum(c.sent for c in calls)
            others0 = cpu_seconds(os.getpid()) + procs.cpu_seconds(procs.realtime.pid)
            cpu0, t0 = procs.cpu_seconds(), time.monotonic()
            await asyncio.sleep(window)
            cpu1, t1 = procs.cpu_seconds(), time.monotonic()
            others1 = cpu_seconds(os.getpid()) + procs.cpu_seconds(procs.realtime.pid)
            sent = sum(c.sent for c in calls) - sent_before
            server = await procs.realtime_stats()
            up = list(server["up_ms"])
            down = [ms for c in calls for ms in c.down_ms]
            rng = random.Random(level)
            trips = [u + rng.choice(down) for u in up] if down else []
            late = sum(1 for ms in up if ms > FRAME_MS) + sum(1 for ms in down if ms > FRAME_MS)
            rows.append(
                {
                    "calls": level,
                    "up_p50_ms": pct(up, 0.5),
                    "up_p99_ms": pct(up, 0.99),
                    "down_p50_ms": pct(down, 0.5),
                    "down_p99_ms": pct(down, 0.99),
                    "rtt_p50_ms": pct(trips, 0.5),
                    "rtt_p99_ms": pct(trips, 0.99),
                    # Frames sent in the window but not relayed to the server (in flight at its edges aside).
                    "lost": max(0, sent - server["frames"] - level),
                    "late": late,
                    "cpu_pct_per_call": 100 * (cpu1 - cpu0) / (t1 - t0) / level,
                    "cpu_pct_total": 100 * (cpu1 - cpu0) / (t1 - t0),
                    "kb_per_call": (procs.rss_kb() - rss0) / level,
                    # The Twilio side and the local server (on the other core): when they run out of CPU, they
                    # and not the app set the latency.
                    "load_side_cpu_pct": 100 * (others1 - others0) / (t1 - t0),
                }
            )
            print(_row(rows[-1]), flush=True)
        stop.set()
        if ticking is not None:
            await ticking
        await asyncio.gather(*(c.hang_up() for c in calls), return_exceptions=True)
    return rows


def _row(r: dict) -> str:
    return (
        f"{r['calls']:>5} {r['up_p50_ms']:7.1f} {r['up_p99_ms']:7.1f} {r['down_p50_ms']:7.1f} "
        f"{r['down_p99_ms']:7.1f} {r['rtt_p50_ms']:7.1f} {r['rtt_p99_ms']:7.1f} {r['lost']:>6} {r['late']:>6} "
        f"{r['cpu_pct_per_call']:8.2f} {r['cpu_pct_total']:7.1f} {r['kb_per_call']:8.1f} {r['load_side_cpu_pct']:8.1f}"
    )


def run(quick: bool = False, levels: tuple[int, ...] | None = None, window: float | None = None) -> dict[str, object]:
    levels = levels or (QUICK_LEVELS if quick else LEVELS)
    window = window or (2.0 if quick else 5.0)
    with tempfile.TemporaryDirectory() as workdir:
        procs = Processes(workdir)
        try:
            print(
                f"app pinned to one core: {procs.pinned}; uvicorn --loop uvloop --http httptools; "
                f"{window:g} s window per level",
                flush=True,
            )
            print("calls  up p50  up p99 dn p50  dn p99 rtt p50 rtt p99   lost   late cpu%/call  cpu%  KB/call")
            rows = asyncio.run(ramp(procs, levels, window, settle=1.0 if quick else 2.0))
        finally:
            procs.stop()
    held = [r["calls"] for r in rows if r["rtt_p99_ms"] < TARGET_P99_MS and r["lost"] == 0 and r["late"] == 0]
    best = max(held, default=0)
    print(
        f"held with round-trip p99 < {TARGET_P99_MS:g} ms and nothing lost or late: {best} calls "
        f"(target 200){'' if best >= 200 else ' -- not met'}"
    )
    figures: dict[str, object] = {"calls_held_p99_under_20ms": best, "pinned": procs.pinned}
    for r in rows:
        for key, value in r.items():
            if key != "calls":
                figures[f"calls_{r['calls']}.{key}"] = round(value, 3) if isinstance(value, float) else value
    return figures


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short ramp (CI smoke)")
    parser.add_argument("--levels", help="comma-separated call counts, e.g. 25,50,100")
    parser.add_argument("--window", type=float, help="seconds measured per level")
    parser.add_argument("--serve-realtime", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--connect-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_realtime:
        _serve_forever(args.serve_realtime, args.connect_delay)
        return {}
    levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else None
    return run(args.quick, levels, args.window)


def _serve_forever(port_file: str, connect_delay: float) -> None:
    try:
        import uvloop

        uvloop.run(serve_realtime(port_file, connect_delay))
    except ImportError:
        asyncio.run(serve_realtime(port_file, connect_delay))


if __name__ == "__main__":
    main()
