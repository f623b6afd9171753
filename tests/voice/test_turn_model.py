"""The end-of-turn model (smart-turn v3.2 from the pipecat-ai wheel) on real synthesized caller audio, cut
by the call's VAD exactly as a live call cuts it (250 ms pauses, 8 kHz μ-law upsampled to 16 kHz)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from silentpartner.voice.speech import OfflineSpeech, SpeechEnded, models
from silentpartner.voice.speech.engine import load_turn_model
from silentpartner.voice.speech.turn_model import WINDOW_SAMPLES
from silentpartner.voice.speech_doctor import end_of_turn_model
from tests.support.caller_voice import CALLER_TURNS, caller_available, caller_says, silence

AVAILABLE, WHY = OfflineSpeech.available()
try:
    models.smart_turn_files()
    MODEL_WHY = ""
except models.SpeechUnavailable as exc:
    MODEL_WHY = str(exc)
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(not AVAILABLE, reason=WHY or "offline speech unavailable"),
    pytest.mark.skipif(bool(MODEL_WHY), reason=MODEL_WHY),
]

PAUSE_MS = 250  # CallTiming.end_silence_ms


@pytest.fixture(scope="module")
def speech() -> OfflineSpeech:
    ok, why = caller_available()
    if not ok:
        pytest.skip(why)
    return asyncio.run(OfflineSpeech.shared())


def turn_audio(speech: OfflineSpeech, text: str) -> bytes:
    """The caller saying `text` as the call hands it to the model: the VAD's segments of it, joined."""
    vad = speech.new_vad(end_silence_ms=PAUSE_MS)
    stream = silence(300) + caller_says(text) + silence(600)
    ended = [e for i in range(0, len(stream), 160) for e in vad.feed(stream[i : i + 160])]
    segments = [e.pcm16k for e in ended if isinstance(e, SpeechEnded)]
    assert segments, f"the VAD heard nothing in {text!r}"
    return b"".join(segments)


def score(speech: OfflineSpeech, text: str) -> float:
    result = asyncio.run(speech.end_of_turn(turn_audio(speech, text)))
    assert result is not None
    return result


def test_the_installed_model_is_the_pinned_one() -> None:
    models.verify(models.smart_turn_files())


def test_a_changed_model_is_refused_and_the_engine_goes_on_without_it(tmp_path: Path) -> None:
    files = models.smart_turn_files()
    name = next(iter(files.expected))
    (tmp_path / name).write_bytes(files.path(name).read_bytes()[:-1] + b"\x00")
    model, why = load_turn_model(models.ModelFiles(files.name, tmp_path, files.expected, files.install_hint))
    assert model is None
    assert "has sha256" in why and 'pip install --no-deps "pipecat-ai==1.14.0"' in why
    os.remove(tmp_path / name)
    model, why = load_turn_model(models.ModelFiles(files.name, tmp_path, files.expected, files.install_hint))
    assert model is None and "is missing" in why


def test_doctor_says_when_the_model_is_missing_or_changed(tmp_path: Path) -> None:
    files = models.smart_turn_files()
    assert end_of_turn_model().level == "ok"
    missing = end_of_turn_model(models.ModelFiles(files.name, tmp_path, files.expected, files.install_hint))
    assert missing.level == "warn"
    assert "is missing" in missing.message and 'pip install --no-deps "pipecat-ai==1.14.0"' in missing.message
    assert "Calls still work" in missing.message


def test_the_engine_has_the_model(speech: OfflineSpeech) -> None:
    assert speech.turn_model_missing == ""


@pytest.mark.parametrize("text", [*CALLER_TURNS, "Yes.", "John Smith.", "Jordan Smith."])
def test_a_complete_sentence_scores_complete(speech: OfflineSpeech, text: str) -> None:
    assert score(speech, text) > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "I'm calling because",
        "I'm calling because,",
        "And I'm calling because,",
        "It's at 42 Oak Street and",
        "I think it's the,",
        "I was hoping",
    ],
)
def test_a_clause_cut_at_a_connective_scores_incomplete(speech: OfflineSpeech, text: str) -> None:
    assert score(speech, text) < 0.5


@pytest.mark.parametrize(
    "text", ["My water heater,", "I need someone to look at my", "Can someone come out to", "My name is"]
)
def test_the_model_alone_would_answer_these_cut_clauses(speech: OfflineSpeech, text: str) -> None:
    # Why the call floor weighs the words as well: said with a clause-final fall, these sound finished.
    assert score(speech, text) > 0.5


def test_a_turn_longer_than_the_window_is_judged_on_its_end(speech: OfflineSpeech) -> None:
    complete = turn_audio(speech, "My kitchen faucet is leaking.")
    cut = turn_audio(speech, "I'm calling because")
    long_turn = b"".join(turn_audio(speech, text) for text in CALLER_TURNS[:4])
    assert len(long_turn) // 2 > WINDOW_SAMPLES
    assert asyncio.run(speech.end_of_turn(long_turn + cut)) < 0.5
    assert asyncio.run(speech.end_of_turn(cut + long_turn + complete)) > 0.5


def test_features_are_the_last_eight_seconds_padded_in_front(speech: OfflineSpeech) -> None:
    from silentpartner.voice.speech.turn_model import TurnModel

    model = TurnModel(models.load_smart_turn())
    short = np.full(16000, 0.1, dtype=np.float32)
    assert model.features(short).shape == (80, 800)
    tail = np.random.default_rng(3).standard_normal(WINDOW_SAMPLES).astype(np.float32) * 0.1
    head = np.random.default_rng(4).standard_normal(WINDOW_SAMPLES).astype(np.float32) * 0.1
    assert np.array_equal(model.features(np.concatenate([head, tail])), model.features(tail))
