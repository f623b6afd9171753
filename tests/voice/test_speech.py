"""The offline speech engine on real models: Silero VAD, Whisper tiny.en and the local voice.

Caller audio comes from tests.support.caller_voice (a voice different from the agent's), goes through
8 kHz μ-law exactly as on a phone line, and is fed in 20 ms frames. The models load once for the module.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import numpy as np
import pytest

from silentpartner.voice import audio
from silentpartner.voice.speech import ModelIntegrityError, OfflineSpeech, SpeechEnded, SpeechStarted, models
from silentpartner.voice.speech.engine import load_voice
from silentpartner.voice.speech.stt import Transcriber
from silentpartner.voice.speech.tts import EspeakVoice, split_sentences, to_phone
from tests.support.caller_voice import (
    CALLER_TURNS,
    ESPEAK,
    caller_available,
    caller_says,
    edit_distance,
    frames,
    normalize,
    silence,
)

AVAILABLE, WHY = OfflineSpeech.available()
pytestmark = [pytest.mark.speech, pytest.mark.skipif(not AVAILABLE, reason=WHY or "offline speech unavailable")]


@pytest.fixture(scope="module")
def speech() -> OfflineSpeech:
    ok, why = caller_available()
    if not ok:
        pytest.skip(why)
    return asyncio.run(OfflineSpeech.shared())


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def speech_bounds(ulaw: bytes, threshold_dbfs: float = -45.0) -> tuple[float, float]:
    """Start and end (seconds) of the audible part of a clip, by 20 ms frame level."""
    loud = [i for i, frame in enumerate(frames(ulaw)) if audio.dbfs(audio.ulaw_to_array(frame)) > threshold_dbfs]
    return loud[0] * 0.02, (loud[-1] + 1) * 0.02


def run_vad(vad, stream: bytes, chunk: int = audio.FRAME_BYTES) -> list[tuple[float, SpeechStarted | SpeechEnded]]:
    """Feed a stream in chunks; each event with the stream time at which it was emitted."""
    events: list[tuple[float, SpeechStarted | SpeechEnded]] = []
    fed = 0
    for i in range(0, len(stream), chunk):
        piece = stream[i : i + chunk]
        fed += len(piece)
        events += [(fed / audio.PHONE_RATE, e) for e in vad.feed(piece)]
    events += [(fed / audio.PHONE_RATE, e) for e in vad.flush()]
    return events


def test_normalize_and_edit_distance() -> None:
    assert normalize("My address is forty-two Oak St., call 555-1234 at 2 p.m.") == [
        *"my address is 4 2 oak st call 5 5 5 1 2 3 4 at 2 pm".split()
    ]
    assert edit_distance(normalize("tomorrow at two"), normalize("Tomorrow at 2.")) == 0
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2


# ---------------------------------------------------------------------------------------------------------------
# Loading


def test_available_says_why() -> None:
    ok, why = OfflineSpeech.available()
    assert ok and why == ""


async def test_models_load_once_and_are_shared(speech: OfflineSpeech) -> None:
    again = await asyncio.gather(*(OfflineSpeech.shared() for _ in range(3)))
    assert all(s is speech for s in again)
    assert speech.voice_name in {"hibari", "espeak-ng"}


def test_pinned_hashes_match_the_installed_models() -> None:
    for files in (models.whisper_files(), models.silero_files(), models.hibari_files()):
        models.verify(files)


def _copy_of(files: models.ModelFiles, into: Path, tamper: str) -> models.ModelFiles:
    """The model directory with links to the real files, except `tamper`, which is copied and changed."""
    for name in files.expected:
        source = files.path(name)
        if name == tamper:
            (into / name).write_bytes(source.read_bytes() + b" ")
        else:
            os.symlink(source, into / name)
    return models.ModelFiles(files.name, into, files.expected)


def test_whisper_with_a_changed_file_is_refused(tmp_path: Path) -> None:
    tampered = _copy_of(models.whisper_files(), tmp_path, tamper="config.json")
    with pytest.raises(ModelIntegrityError, match=r"config\.json has sha256 [0-9a-f]{64}, expected 14b1b421"):
        models.load_whisper(tampered)


def test_a_changed_hibari_voice_falls_back_to_espeak(tmp_path: Path) -> None:
    if models.espeak_binary() is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    tampered = _copy_of(models.hibari_files(), tmp_path, tamper="hibari.onnx")
    voice = load_voice(tampered)
    assert isinstance(voice, EspeakVoice)
    assert not audio.is_silent(to_phone(voice, "Thanks for calling."))


def test_silero_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match=r"silero_vad_v6\.onnx is missing"):
        models.load_silero(models.ModelFiles("Silero VAD", tmp_path, models.SILERO_FILES))


# ---------------------------------------------------------------------------------------------------------------
# VAD


def test_vad_finds_each_utterance(speech: OfflineSpeech) -> None:
    first, second = caller_says(CALLER_TURNS[0]), caller_says(CALLER_TURNS[1])
    stream = silence(1000) + first + silence(1500) + second + silence(1000)
    start1, end1 = speech_bounds(first)
    start2, end2 = speech_bounds(second)
    offset2 = 1.0 + len(first) / 8000 + 1.5
    truth = [(1.0 + start1, 1.0 + end1), (offset2 + start2, offset2 + end2)]

    events = run_vad(speech.new_vad(), stream)
    kinds = [type(e).__name__ for _, e in events]
    assert kinds == ["SpeechStarted", "SpeechEnded", "SpeechStarted", "SpeechEnded"]
    for (emitted_start, started), (emitted_end, ended), (begin, end) in zip(
        events[0::2], events[1::2], truth, strict=True
    ):
        assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
        assert abs(started.at - begin) < 0.15
        assert abs(ended.at - end) < 0.3
        # SpeechStarted waits for min_speech_ms of speech; SpeechEnded for end_silence_ms of silence.
        assert emitted_start - started.at >= 0.25 - 0.04
        assert emitted_end - ended.at >= 0.6 - 0.04
        assert ended.duration == pytest.approx(ended.at - started.at)
        # The utterance audio covers the speech, with a short margin either side.
        assert ended.duration <= len(ended.pcm16k) / 32000 <= ended.duration + 0.5


def test_vad_is_the_same_whatever_the_chunk_size(speech: OfflineSpeech) -> None:
    stream = silence(700) + caller_says(CALLER_TURNS[2]) + silence(900)
    by_frame = [e for _, e in run_vad(speech.new_vad(), stream)]
    by_odd_chunk = [e for _, e in run_vad(speech.new_vad(), stream, chunk=37)]
    by_big_chunk = [e for _, e in run_vad(speech.new_vad(), stream, chunk=8000)]
    assert len(by_frame) == 2
    assert [(type(e), e.at) for e in by_odd_chunk] == [(type(e), e.at) for e in by_frame]
    assert [(type(e), e.at) for e in by_big_chunk] == [(type(e), e.at) for e in by_frame]


def test_vad_ignores_silence_and_noise(speech: OfflineSpeech) -> None:
    rng = np.random.default_rng(5)
    noise = audio.array_to_ulaw(rng.normal(0, 300, 3 * 8000).astype(np.float32) / 32768)  # about -40 dBFS
    hum = audio.array_to_ulaw(
        (0.05 * np.sin(2 * np.pi * 60 * np.arange(3 * 8000) / 8000)).astype(np.float32)
    )  # mains hum
    for stream in (silence(3000), noise, hum):
        assert run_vad(speech.new_vad(), stream) == []


def test_vad_needs_min_speech_before_a_barge_in(speech: OfflineSpeech) -> None:
    turn = caller_says(CALLER_TURNS[1])
    begin, _ = speech_bounds(turn)
    start = int(begin * 8000)
    blip = turn[start : start + int(0.15 * 8000)]  # 150 ms of speech: a cough or an "mm"
    assert run_vad(speech.new_vad(min_speech_ms=250), silence(500) + blip + silence(1500)) == []
    # The whole turn still counts, and a higher minimum delays SpeechStarted accordingly.
    events = run_vad(speech.new_vad(min_speech_ms=600), silence(500) + turn + silence(1000))
    (emitted, started), (_, ended) = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert emitted - started.at >= 0.6 - 0.04


def test_flush_closes_open_speech(speech: OfflineSpeech) -> None:
    vad = speech.new_vad()
    events = []
    for frame in frames(silence(300) + caller_says(CALLER_TURNS[5])):
        events += vad.feed(frame)
    assert [type(e) for e in events] == [SpeechStarted]
    assert vad.in_speech
    ended = vad.flush()
    assert len(ended) == 1 and ended[0].duration > 0.5 and not vad.in_speech
    assert vad.flush() == []


# ---------------------------------------------------------------------------------------------------------------
# STT


async def test_stt_accuracy_on_phone_quality_caller_turns(speech: OfflineSpeech) -> None:
    """Each turn: caller voice -> 8 kHz μ-law -> 20 ms frames -> VAD -> Whisper; normalized WER under 15%."""
    utterances = []
    for turn in CALLER_TURNS:
        vad = speech.new_vad()
        events = [e for _, e in run_vad(vad, silence(400) + caller_says(turn) + silence(800))]
        utterances.append([e.pcm16k for e in events if isinstance(e, SpeechEnded)])
    assert all(utterances), "the VAD found no speech in some turns"

    started = time.perf_counter()
    heard = await asyncio.gather(*(asyncio.gather(*(speech.transcribe(p) for p in pcms)) for pcms in utterances))
    elapsed = time.perf_counter() - started

    errors = words = 0
    for turn, parts in zip(CALLER_TURNS, heard, strict=True):
        hypothesis = " ".join(parts)
        reference = normalize(turn)
        error = edit_distance(reference, normalize(hypothesis))
        errors += error
        words += len(reference)
        if error:
            print(f"  {error} error(s): {turn!r} heard as {hypothesis!r}")
    wer = errors / words
    print(f"STT: {len(CALLER_TURNS)} phone-quality turns, {words} words, normalized WER {wer:.1%}, {elapsed:.2f} s")
    assert len(CALLER_TURNS) >= 15
    assert wer < 0.15


def test_the_transcriber_decodes_exactly_as_faster_whisper_does(speech: OfflineSpeech) -> None:
    """The engine's own decode (a worker per core on one model, batches) gives faster-whisper's text, word for
    word and mark for mark, on phone-quality caller turns; the fitted window stays as accurate overall."""
    model = models.load_whisper()
    turns = CALLER_TURNS[:10]
    utterances = [audio.phone_to_pcm16k(caller_says(turn)) for turn in turns]
    theirs = []
    for pcm in utterances:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
        segments, _ = model.transcribe(
            samples, language="en", beam_size=1, temperature=0.0, condition_on_previous_text=False,
            without_timestamps=True, vad_filter=False,
        )  # fmt: skip
        theirs.append(" ".join(s.text.strip() for s in segments).strip())
    full = Transcriber(model, window="full")
    assert [full.transcribe(pcm) for pcm in utterances] == theirs
    assert full.transcribe_many([(pcm, "") for pcm in utterances[:4]]) == theirs[:4]

    def word_errors(texts: list[str]) -> int:
        return sum(edit_distance(normalize(t), normalize(h)) for t, h in zip(turns, texts, strict=True))

    fit = Transcriber(model, window="fit")
    assert word_errors([fit.transcribe(pcm) for pcm in utterances]) <= word_errors(theirs)


async def test_transcribing_silence_gives_nothing(speech: OfflineSpeech) -> None:
    assert await speech.transcribe(b"") == ""
    assert await speech.transcribe(bytes(1000)) == ""


# ---------------------------------------------------------------------------------------------------------------
# TTS


REPLY = (
    "Thanks for calling Mike's Plumbing. I can book a service call for you. "
    "The first opening is tomorrow at two in the afternoon. Does that work? "
    "The call-out fee is eighty nine dollars, waived if we do the repair. "
    "Can I have your name, please? And the address of the job? Thank you."
)


async def test_synthesize_yields_sentence_by_sentence(speech: OfflineSpeech) -> None:
    sentences = split_sentences(REPLY)
    assert len(sentences) == 8
    started = time.perf_counter()
    arrivals: list[float] = []
    chunks: list[bytes] = []
    async for chunk in speech.synthesize(REPLY):
        arrivals.append(time.perf_counter() - started)
        chunks.append(chunk)
    assert len(chunks) == len(sentences)
    for chunk in chunks:
        assert len(chunk) > 0.3 * 8000  # at least 0.3 s of audio per sentence
        assert not audio.is_silent(chunk)
        assert audio.dbfs(audio.ulaw_to_array(chunk)) > -35
    # The first sentence is on its way long before the whole reply is synthesized.
    assert arrivals[0] < arrivals[-1] / 2
    # And it is the first sentence alone, in the same voice as when it is said on its own.
    alone = [c async for c in speech.synthesize(sentences[0])]
    assert alone == [chunks[0]]


async def test_calls_share_the_engine_safely(speech: OfflineSpeech) -> None:
    """Several calls synthesizing and transcribing at once get what each would get alone."""
    texts = list(CALLER_TURNS[:4])
    alone = [b"".join([c async for c in speech.synthesize(t)]) for t in texts]

    async def say(text: str) -> bytes:
        return b"".join([c async for c in speech.synthesize(text)])

    together = await asyncio.gather(*(say(t) for t in texts))
    assert list(together) == alone
    utterances = [audio.phone_to_pcm16k(a) for a in alone]
    heard_alone = [await speech.transcribe(u) for u in utterances]
    heard_together = await asyncio.gather(*(speech.transcribe(u) for u in utterances))
    assert list(heard_together) == heard_alone


async def test_every_call_shares_one_whisper_model_through_the_pool(speech: OfflineSpeech) -> None:
    """One model, loaded once, with one CTranslate2 worker per pool worker; eight calls transcribing at once
    queue in the pool and each gets what it would get alone."""
    model = models.load_whisper()
    assert models.load_whisper() is model
    assert model.model.num_workers == speech.pool.workers
    utterances = [audio.phone_to_pcm16k(caller_says(turn)) for turn in CALLER_TURNS[:8]]
    alone = [await speech.transcribe(u) for u in utterances]
    jobs_before = speech.pool.stats.jobs
    together = await asyncio.gather(*(speech.transcribe(u) for u in utterances))
    assert list(together) == alone
    assert speech.pool.stats.jobs - jobs_before == 8


async def test_closing_synthesis_early_stops_it(speech: OfflineSpeech) -> None:
    stream = speech.synthesize(REPLY)
    first = await anext(stream)
    await stream.aclose()  # barge-in: the rest is never synthesized or sent
    assert len(first) > 0


async def test_agent_voice_is_understood_back(speech: OfflineSpeech) -> None:
    """Round trip through the phone path: agent voice -> μ-law -> VAD -> Whisper."""
    said = b"".join([c async for c in speech.synthesize("Someone can come tomorrow at two.")])
    events = [e for _, e in run_vad(speech.new_vad(), silence(300) + said + silence(900))]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1
    heard = await speech.transcribe(ended[0].pcm16k)
    assert edit_distance(normalize("someone can come tomorrow at two"), normalize(heard)) <= 1, heard


def test_caller_voice_differs_from_agent_voice(speech: OfflineSpeech) -> None:
    def pitch(ulaw: bytes) -> float:
        """Median F0 (Hz) over voiced 40 ms windows, by autocorrelation."""
        x = audio.ulaw_to_array(ulaw).astype(np.float64)
        found = []
        for i in range(0, len(x) - 320, 160):
            w = x[i : i + 320] - x[i : i + 320].mean()
            if audio.rms(w) < 500:
                continue
            ac = np.correlate(w, w, "full")[319:]
            lag = 20 + int(np.argmax(ac[20:100]))  # 80-400 Hz at 8 kHz
            found.append(8000 / lag)
        return float(np.median(found))

    text = "My kitchen faucet is leaking."
    agent = to_phone(speech.voice, text)
    caller = caller_says(text)
    assert agent != caller
    assert pitch(caller) < 0.8 * pitch(agent)


def test_espeak_voice_speaks() -> None:
    ok, why = caller_available(ESPEAK)
    if not ok:
        pytest.skip(why)
    chunk = to_phone(EspeakVoice(models.espeak_binary() or "espeak-ng"), "-1 is not an option.")
    assert len(chunk) > 0.5 * 8000 and not audio.is_silent(chunk)


def test_split_sentences() -> None:
    assert split_sentences("Hi there. Dr. Smith lives on St. Johns Rd. Ok?  Great!\nBye") == [
        "Hi there.",
        "Dr. Smith lives on St. Johns Rd.",
        "Ok?",
        "Great!",
        "Bye",
    ]
    long = "We can come on Monday, Tuesday, Wednesday, Thursday, or Friday, " * 4 + "whichever suits you."
    parts = split_sentences(long)
    assert len(parts) > 1 and all(len(p) <= 160 for p in parts)
    assert " ".join(parts) == long
    assert split_sentences("   ") == []


def test_the_operators_pool_size_and_window_apply_before_the_models_load(tmp_path: Path) -> None:
    """SPEECH_WORKERS and SPEECH_STT_WINDOW reach the engine through the voice component at start, in a fresh
    process (this one may have loaded the models already, after which they are kept)."""
    import subprocess
    import sys

    script = (
        "import asyncio\n"
        "from silentpartner.app import open_runtime\n"
        "from silentpartner.settings import load_settings\n"
        "from silentpartner.voice.speech import OfflineSpeech\n"
        "from silentpartner.voice.speech.engine import POOL\n"
        "from silentpartner.voice.warmup import VoiceComponent\n"
        "async def main():\n"
        "    runtime = await open_runtime(load_settings(_env_file=None))\n"
        "    component = VoiceComponent()\n"
        "    await component.start(runtime)\n"
        "    print(POOL.workers, OfflineSpeech.stt_window)\n"
        "    await component.stop()\n"
        "    await runtime.db.close()\n"
        "asyncio.run(main())\n"
    )
    env = {
        **os.environ,
        "SPEECH_WORKERS": "3",
        "SPEECH_STT_WINDOW": "fit",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'speech.db'}",
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["3", "fit"]
