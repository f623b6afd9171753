"""The server's inbound work per 20 ms frame of a live call, in µs: parse the Media Streams message, and run
the VAD on its audio, with each Silero build the engine can use.

Run: python bench/frames.py [--rounds N]

Prints, per 20 ms frame (best of N rounds over about 6 s of caller speech with pauses, fed frame by frame
as a call does):
  parse inbound media frame      JSON + base64 (the codec)
  VAD, Silero v5 at 8 kHz        the phone audio as it comes, 256-sample windows, no resampling
  VAD, Silero v6 at 16 kHz       each frame upsampled to 16 kHz first (faster-whisper's build)
  parse + VAD                    the whole inbound cost with the engine's VAD
  build outbound media + mark    the codec's outbound message for 20 ms of agent audio

`run(quick)` returns the same figures as a dict (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from silentpartner.voice.audio import FRAME_BYTES, split_frames
from silentpartner.voice.codec import MediaStreamCodec
from silentpartner.voice.speech import models
from silentpartner.voice.speech.engine import load_vad_model
from silentpartner.voice.speech.silero import Silero8k, Silero16k, SileroModel
from silentpartner.voice.speech.vad import Vad
from tests.support.caller_voice import caller_says, silence

STREAM_SID = "MZ" + "a" * 32


def started_codec() -> MediaStreamCodec:
    codec = MediaStreamCodec()
    codec.receive(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    start = {"streamSid": STREAM_SID, "callSid": "CA" + "b" * 32, "customParameters": {}}
    codec.receive(json.dumps({"event": "start", "sequenceNumber": "1", "start": start, "streamSid": STREAM_SID}))
    return codec


def caller_stream() -> bytes:
    return (
        silence(400)
        + caller_says("My kitchen faucet is leaking, can someone come tomorrow?")
        + silence(800)
        + caller_says("My name is Jordan Smith.")
        + silence(800)
    )


def media_messages(ulaw: bytes) -> list[str]:
    return [
        json.dumps(
            {
                "event": "media",
                "sequenceNumber": str(i + 2),
                "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20), "payload": payload},
                "streamSid": STREAM_SID,
            }
        )
        for i, payload in enumerate(base64.b64encode(f).decode() for f in split_frames(ulaw, FRAME_BYTES))
    ]


def best_us(fn, count: int, rounds: int) -> float:
    """Best of `rounds` of fn() (which does `count` frames), in µs per frame."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def vad_models() -> dict[str, SileroModel]:
    out: dict[str, SileroModel] = {}
    try:
        out["VAD, Silero v5 at 8 kHz"] = Silero8k(models.load_silero_8k())
    except (models.SpeechUnavailable, models.ModelIntegrityError) as error:
        print(f"   (no 8 kHz Silero: {error})")
    out["VAD, Silero v6 at 16 kHz"] = Silero16k(models.load_silero())
    return out


def run(quick: bool = False) -> dict[str, object]:
    rounds = 2 if quick else 5
    ulaw = caller_stream()
    chunks = split_frames(ulaw, FRAME_BYTES)
    messages = media_messages(ulaw)
    figures: dict[str, object] = {"frames": len(chunks)}

    codec = started_codec()
    figures["parse inbound media frame, µs"] = best_us(
        lambda: [codec.receive(m) for m in messages], len(messages), rounds
    )
    for label, model in vad_models().items():

        def feed_all(model: SileroModel = model) -> None:
            vad = Vad(model, min_speech_ms=250, end_silence_ms=250)
            for chunk in chunks:
                vad.feed(chunk)

        figures[f"{label}, µs"] = best_us(feed_all, len(chunks), rounds)

    engine_model = load_vad_model()

    def parse_and_vad() -> None:
        vad = Vad(engine_model, min_speech_ms=250, end_silence_ms=250)
        for message in messages:
            vad.feed(codec.receive(message).payload)  # type: ignore[union-attr]

    figures["VAD in use"] = engine_model.name
    figures["parse + VAD, µs"] = best_us(parse_and_vad, len(messages), rounds)
    out = b"\xff" * FRAME_BYTES
    count = 2000 if quick else 5000
    build = best_us(lambda: [codec.send_audio(out) for _ in range(count)], count, 1)
    figures["build outbound media + mark, µs"] = build
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    figures = run(args.quick)
    frames, in_use = figures.pop("frames"), figures.pop("VAD in use")
    print(f"per 20 ms frame, best of rounds over {frames} frames (VAD in use: {in_use})")
    for label, value in figures.items():
        print(f"   {label.removesuffix(', µs'):32} {value:8.1f} µs")


if __name__ == "__main__":
    main()
