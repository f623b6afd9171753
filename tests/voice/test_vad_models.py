"""The VAD with each Silero build: v5 run natively on the 8 kHz phone audio, and v6 on it upsampled to
16 kHz (the build faster-whisper ships, the fallback). Real synthesized caller speech through 8 kHz μ-law."""

from __future__ import annotations

import asyncio

import pytest

from silentpartner.voice import audio
from silentpartner.voice.speech import OfflineSpeech, SpeechEnded, SpeechPausing, SpeechStarted, Vad, models
from silentpartner.voice.speech.silero import Silero8k, Silero16k, SileroModel
from tests.support.caller_voice import CALLER_TURNS, caller_available, caller_says, frames, normalize, silence

AVAILABLE, WHY = OfflineSpeech.available()
pytestmark = [pytest.mark.speech, pytest.mark.skipif(not AVAILABLE, reason=WHY or "offline speech unavailable")]


def _silero_8k() -> SileroModel:
    try:
        return Silero8k(models.load_silero_8k())
    except models.SpeechUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module", autouse=True)
def _caller() -> None:
    ok, why = caller_available()
    if not ok:
        pytest.skip(why)


def speech_bounds(ulaw: bytes, threshold_dbfs: float = -45.0) -> tuple[float, float]:
    loud = [i for i, frame in enumerate(frames(ulaw)) if audio.dbfs(audio.ulaw_to_array(frame)) > threshold_dbfs]
    return loud[0] * 0.02, (loud[-1] + 1) * 0.02


def events_of(model: SileroModel, stream: bytes, **options: int) -> list[SpeechStarted | SpeechEnded]:
    vad = Vad(model, **options)
    out = [event for frame in frames(stream) for event in vad.feed(frame)]
    return out + vad.flush()


def two_turns() -> tuple[bytes, list[tuple[float, float]]]:
    first, second = caller_says(CALLER_TURNS[6]), caller_says(CALLER_TURNS[10])
    stream = silence(800) + first + silence(1200) + second + silence(900)
    (s1, e1), (s2, e2) = speech_bounds(first), speech_bounds(second)
    offset = 0.8 + len(first) / 8000 + 1.2
    return stream, [(0.8 + s1, 0.8 + e1), (offset + s2, offset + e2)]


def test_the_8k_vad_finds_start_and_end_like_the_16k_one() -> None:
    stream, truth = two_turns()
    by_8k = events_of(_silero_8k(), stream)
    by_16k = events_of(Silero16k(models.load_silero()), stream)
    kinds = [SpeechStarted, SpeechEnded, SpeechStarted, SpeechEnded]
    assert [type(e) for e in by_8k] == kinds
    assert [type(e) for e in by_16k] == kinds
    for (started, ended), (begin, end) in zip(zip(by_8k[0::2], by_8k[1::2], strict=True), truth, strict=True):
        assert abs(started.at - begin) < 0.15
        assert abs(ended.at - end) < 0.3
    # The two builds agree on the starts to within a few 32 ms frames; v5 at 8 kHz lets go of the speech
    # later (why the engine runs v6 at 16 kHz by default), but never by more than a VAD pause.
    for a, b in zip(by_8k, by_16k, strict=True):
        if isinstance(a, SpeechStarted):
            assert abs(a.at - b.at) <= 0.1, (a, b)
        else:
            assert -0.05 <= a.at - b.at <= 0.3, (a, b)


def test_the_8k_vad_hands_whisper_the_same_words() -> None:
    stream, _ = two_turns()
    speech = asyncio.run(OfflineSpeech.shared())
    heard = {}
    for name, model in (("8k", _silero_8k()), ("16k", Silero16k(models.load_silero()))):
        ended = [e for e in events_of(model, stream) if isinstance(e, SpeechEnded)]
        heard[name] = [asyncio.run(speech.transcribe(e.pcm16k)) for e in ended]
    assert [normalize(t) for t in heard["8k"]] == [normalize(t) for t in heard["16k"]]
    assert "water heater" in heard["8k"][0].lower()


def test_the_8k_vad_ignores_silence_and_a_short_blip() -> None:
    turn = caller_says(CALLER_TURNS[1])
    begin, _ = speech_bounds(turn)
    blip = turn[int(begin * 8000) : int(begin * 8000) + 1200]  # 150 ms of speech
    assert events_of(_silero_8k(), silence(3000)) == []
    assert events_of(_silero_8k(), silence(500) + blip + silence(1500), min_speech_ms=250) == []


def test_open_audio_is_the_utterance_so_far() -> None:
    turn = caller_says(CALLER_TURNS[7])
    vad = Vad(_silero_8k(), end_silence_ms=250)
    assert vad.open_audio() is None
    half = len(turn) // 2
    for frame in frames(silence(500) + turn[:half]):
        vad.feed(frame)
    assert vad.in_speech
    start, pcm = vad.open_audio() or (0.0, b"")
    assert 0.3 <= start <= 0.6 + 0.2
    # From the start of the pre-roll to the last sample fed, at 16 kHz.
    assert len(pcm) == pytest.approx((0.5 + half / 8000 - start) * 32000, abs=2 * 320)


def test_an_announced_pause_carries_the_audio_of_the_end_that_follows() -> None:
    stream, _ = two_turns()
    for model in (Silero16k(models.load_silero()), _silero_8k()):
        for chunk in (160, 37):
            vad = Vad(model, end_silence_ms=250, announce_pauses=True)
            events = [e for i in range(0, len(stream), chunk) for e in vad.feed(stream[i : i + chunk])]
            pausing = [e for e in events if isinstance(e, SpeechPausing)]
            ended = [e for e in events if isinstance(e, SpeechEnded)]
            assert len(ended) == 2 and pausing
            for end in ended:
                announced = [p for p in pausing if p.at == end.at]
                assert announced and announced[-1].pcm16k == end.pcm16k
            # Without asking, there are none: the events are as they always were.
            quiet = events_of(model, stream, end_silence_ms=250)
            others = [(type(e), e.at) for e in events if not isinstance(e, SpeechPausing)]
            assert [(type(e), e.at) for e in quiet] == others
