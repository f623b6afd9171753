"""Offline speech engine costs on this machine: codec, VAD, STT and TTS.

Run: python bench/speech.py [--rounds N] [--beam B] [--espeak]

Prints
  1. μ-law encode and decode, and the 8 -> 16 kHz streaming resampler, in µs per 20 ms frame;
  2. VAD (resample + Silero) in µs per 20 ms frame, over caller speech with pauses;
  3. STT: Whisper tiny.en time per utterance (p50/p95) on the plumber-call caller turns at phone quality,
     one at a time, and the normalized WER, with each window (speech/stt.py: "full", faster-whisper's exact
     decode, and "fit"); then eight at once through a pool with a worker per core, with and without
     batching; with --espeak, the WER with the espeak-ng caller voice as well;
  4. TTS: time to the first sentence's audio and the real-time factor (synthesis seconds per second of audio).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from silentpartner.voice import audio
from silentpartner.voice.speech import OfflineSpeech, SpeechEnded
from silentpartner.voice.speech.pool import SpeechPool
from silentpartner.voice.speech.stt import Transcriber
from silentpartner.voice.speech.tts import split_sentences
from tests.support.caller_voice import (
    CALLER_TURNS,
    ESPEAK,
    HIBARI_CALLER,
    caller_says,
    edit_distance,
    frames,
    normalize,
    silence,
)

REPLIES = (
    "Thanks for calling Mike's Plumbing, this is Sam. How can I help you today?",
    "I'm sorry to hear about the leak. I can send someone tomorrow at two in the afternoon. Does that work for you?",
    "Great. Can I have your name and the address of the job, please?",
    "You're all set for tomorrow at two. The call-out fee is eighty nine dollars, waived if we do the repair. "
    "We'll text you a confirmation. Goodbye!",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def per_frame_us(fn, frames_: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for frame in frames_:
            fn(frame)
        best = min(best, (time.perf_counter() - started) / len(frames_))
    return best * 1e6


def bench_codec(rounds: int) -> None:
    rng = np.random.default_rng(0)
    pcm_frames = [rng.normal(0, 3000, 160).astype("<i2").tobytes() for _ in range(500)]
    ulaw_frames = [audio.pcm16_to_ulaw(f) for f in pcm_frames]
    print("codec (per 20 ms frame, best of rounds)")
    print(f"  μ-law encode           {per_frame_us(audio.pcm16_to_ulaw, pcm_frames, rounds):7.2f} µs")
    print(f"  μ-law decode           {per_frame_us(audio.ulaw_to_pcm16, ulaw_frames, rounds):7.2f} µs")
    resampler = audio.Resampler(8000, 16000)
    arrays = [audio.ulaw_to_array(f) for f in ulaw_frames]
    print(f"  resample 8k -> 16k     {per_frame_us(resampler.process, arrays, rounds):7.2f} µs")


def bench_vad(speech: OfflineSpeech, rounds: int) -> float:
    stream = b"".join(silence(600) + caller_says(turn) + silence(900) for turn in CALLER_TURNS[:6])
    frames_ = frames(stream)
    best, found = float("inf"), 0
    for _ in range(rounds):
        vad = speech.new_vad()
        started = time.perf_counter()
        events = [e for f in frames_ for e in vad.feed(f)]
        best = min(best, (time.perf_counter() - started) / len(frames_))
        found = sum(isinstance(e, SpeechEnded) for e in events)
    print(f"VAD: {best * 1e6:.1f} µs per 20 ms frame ({len(frames_)} frames, {found} utterances found of 6)")
    return best * 1e6


def utterances(voice: str) -> list[bytes]:
    """Each caller turn through μ-law and the VAD, as the live call would hand it to STT."""
    out = []
    for turn in CALLER_TURNS:
        vad = OfflineSpeech._instance.new_vad()  # type: ignore[union-attr]
        events = [e for f in frames(silence(400) + caller_says(turn, voice) + silence(800)) for e in vad.feed(f)]
        events += vad.flush()
        pieces = [e.pcm16k for e in events if isinstance(e, SpeechEnded)]
        out.append(b"".join(pieces))
    return out


def wer(heard: list[str]) -> float:
    errors = sum(edit_distance(normalize(t), normalize(h)) for t, h in zip(CALLER_TURNS, heard, strict=True))
    return errors / sum(len(normalize(t)) for t in CALLER_TURNS)


async def bench_stt(beam: int, with_espeak: bool, figures: dict[str, object]) -> None:
    from silentpartner.voice.speech import models

    pcms = utterances(HIBARI_CALLER)
    seconds = [len(p) / 32000 for p in pcms]
    print(f"STT (Whisper tiny.en int8, beam {beam}): {len(pcms)} utterances of {min(seconds):.1f}-{max(seconds):.1f} s")
    for window in ("full", "fit"):
        transcriber = Transcriber(models.load_whisper(), beam_size=beam, window=window)
        transcriber.transcribe(pcms[0])  # warm up
        times, heard = [], []
        for pcm in pcms:
            started = time.perf_counter()
            heard.append(transcriber.transcribe(pcm))
            times.append(time.perf_counter() - started)
        p50, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
        print(f"  {window:4} window, one at a time: p50 {p50:.0f} ms, p95 {p95:.0f} ms; WER {wer(heard):.1%} (hibari)")
        figures[f"stt {window} window p50 ms"], figures[f"stt {window} window wer"] = round(p50), wer(heard)
        if with_espeak:
            heard = [transcriber.transcribe(p) for p in utterances(ESPEAK)]
            print(f"       WER {wer(heard):.1%} with the espeak-ng caller voice")
        await burst(transcriber, pcms[:8], window, figures)


async def burst(transcriber: Transcriber, pcms: list[bytes], window: str, figures: dict[str, object]) -> None:
    """Eight calls' turns at once through a pool of a worker per core, with and without batching."""
    for max_batch in (1, 4):
        pool = SpeechPool(name="bench", max_batch=max_batch)
        batch = ("stt", transcriber.transcribe_many)
        started = time.perf_counter()
        futures = [pool.submit(transcriber.transcribe, pcm, "", batch=batch) for pcm in pcms]
        done = []
        for future in futures:
            await asyncio.wrap_future(future)
            done.append(time.perf_counter() - started)
        total = max(done)
        pool.close()
        label = "batches of up to 4" if max_batch > 1 else "no batching"
        print(
            f"    {len(pcms)} at once, {pool.workers} workers, {label}: all done in {total * 1000:.0f} ms, "
            f"median wait for one {statistics.median(done) * 1000:.0f} ms ({pool.stats.batches} batches)"
        )
        figures[f"stt {window} window, {len(pcms)} at once, {label}, ms"] = round(total * 1000)


async def bench_tts(speech: OfflineSpeech, figures: dict[str, object]) -> None:
    async for _ in speech.synthesize("Warm up."):
        pass
    first_chunk, rtf = [], []
    for _ in range(3):
        for reply in REPLIES:
            started = time.perf_counter()
            first = None
            total = 0
            async for chunk in speech.synthesize(reply):
                first = first or time.perf_counter() - started
                total += len(chunk)
            elapsed = time.perf_counter() - started
            first_chunk.append(first or 0.0)
            rtf.append(elapsed / (total / 8000))
    sentences = sum(len(split_sentences(r)) for r in REPLIES)
    figures["tts first audio p50 ms"] = round(statistics.median(first_chunk) * 1000)
    figures["tts real-time factor"] = statistics.median(rtf)
    print(
        f"TTS ({speech.voice_name}, {len(REPLIES)} replies, {sentences} sentences, 3 rounds): first audio "
        f"p50 {statistics.median(first_chunk) * 1000:.0f} ms, p95 {percentile(first_chunk, 0.95) * 1000:.0f} ms; "
        f"real-time factor p50 {statistics.median(rtf):.3f} ({1 / statistics.median(rtf):.0f}x real time)"
    )


async def measure(rounds: int, beam: int, espeak: bool) -> dict[str, object]:
    figures: dict[str, object] = {}
    bench_codec(rounds)
    started = time.perf_counter()
    speech = await OfflineSpeech.shared()
    print(f"models loaded and verified in {time.perf_counter() - started:.2f} s (voice: {speech.voice_name})")
    figures["vad µs per frame"] = bench_vad(speech, rounds)
    await bench_stt(beam, espeak, figures)
    await bench_tts(speech, figures)
    return figures


def run(quick: bool = False) -> dict[str, object]:
    """The figures as a dict (for bench/run_all.py); quick takes fewer rounds."""
    ok, why = OfflineSpeech.available()
    if not ok:
        raise RuntimeError(f"offline speech unavailable: {why}")
    return asyncio.run(measure(2 if quick else 5, 1, False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--beam", type=int, default=1, help="Whisper beam size for the STT figures (engine uses 1)")
    parser.add_argument("--espeak", action="store_true", help="also measure WER with the espeak-ng caller voice")
    args = parser.parse_args()

    ok, why = OfflineSpeech.available()
    if not ok:
        sys.exit(f"offline speech unavailable: {why}")
    asyncio.run(measure(args.rounds, args.beam, args.espeak))


if __name__ == "__main__":
    main()
