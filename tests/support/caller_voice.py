"""A synthetic caller for tests: speech in a different voice from the agent's, as Twilio would carry it.

The agent speaks with hibari's default voice ("heart", a female American voice). The caller is a second
voice built from the same acoustic model: hibari predicts a spectral envelope plus a pitch curve per
12.5 ms frame and renders the waveform on the host (`hibari.dsp`), so the caller gets a male pitch (the F0
curve scaled down) and a longer vocal tract (formants lowered 10% by rendering for a slower playback
rate), spoken a little slower. It is a different-sounding speaker, not the agent's audio re-played.

A second caller voice, `ESPEAK`, is the espeak-ng program (formant synthesis, robotic): use it when a test
needs a caller that shares nothing with the agent's model. Whisper tiny.en understands it far less
reliably over 8 kHz phone audio (about 25-45% WER against about 1% for the hibari caller, see
bench/speech.py), so do not build a flow that depends on exact words on it.

Output is what a Media Stream delivers: 8 kHz G.711 μ-law, cut into 20 ms frames of 160 bytes.

    from tests.support.caller_voice import caller_available, caller_says, frames, silence
    ok, why = caller_available()
    audio = caller_says("My kitchen faucet is leaking.")       # μ-law bytes, 8 kHz
    for frame in frames(silence(500) + audio + silence(800)): ...
    halting = caller_pauses("My name is, um, Jordan Smith.")   # 700 ms of silence at each comma
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from functools import cache

import numpy as np

from silentpartner.voice.audio import FRAME_BYTES, is_silent, pcm_to_phone, silence_ulaw, split_frames
from silentpartner.voice.speech.tts import read_wav

HIBARI_CALLER = "hibari-caller"  # hibari's model re-voiced as a lower, male-sounding speaker
ESPEAK = "espeak-ng"  # espeak-ng en-us, klatt4 variant (the most intelligible espeak voice over the phone)

PITCH_SCALE = 0.6  # F0 of the agent's voice (around 200 Hz) down to a male range (around 120 Hz)
FORMANT_SCALE = 0.9  # render for a 10% slower playback: lowers formants (longer vocal tract)
TEMPO = 0.95  # a little slower than the agent, like someone giving their details
SEED = 7  # the noise part of hibari's output; fixed so every run hears the same caller
ESPEAK_VOICE = "en-us+klatt4"
ESPEAK_WORDS_PER_MINUTE = 145


def caller_available(voice: str = HIBARI_CALLER) -> tuple[bool, str]:
    """(True, "") when the caller voice can be synthesized here, else (False, how to get it)."""
    if voice == HIBARI_CALLER:
        if importlib.util.find_spec("hibari") is None:
            return False, 'hibari-tts is not installed (pip install "silentpartner[speech]"); it voices the test caller'
        return True, ""
    if voice == ESPEAK:
        if shutil.which("espeak-ng") is None:
            return False, "espeak-ng is not installed (apt-get install espeak-ng); it voices the test caller"
        return True, ""
    raise ValueError(f"unknown caller voice {voice!r}; use {HIBARI_CALLER!r} or {ESPEAK!r}")


@cache
def caller_says(text: str, voice: str = HIBARI_CALLER, *, tempo: float = TEMPO) -> bytes:
    """`text` spoken by the test caller, as 8 kHz μ-law bytes (cached: tests reuse the same turns). `tempo`
    is the hibari caller's speed (1 is the model's own)."""
    ok, why = caller_available(voice)
    if not ok:
        raise RuntimeError(why)
    if voice == ESPEAK:
        samples, rate = _espeak(text)
    else:
        samples, rate = _hibari_caller(text, tempo)
    return pcm_to_phone(samples, rate)


@cache
def caller_pauses(text: str, pause_ms: int = 700, voice: str = HIBARI_CALLER) -> bytes:
    """`text` said clause by clause with `pause_ms` of silence at each comma, like a caller thinking as they
    go ("I'm calling because, um, my water heater, it's ..."). Each clause is synthesized on its own, keeping
    its comma (so it ends with the pitch of a clause that goes on), and trimmed of the synthesizer's own
    silence where the clauses meet.

    A filler said on its own ("um,") is drawn out, as people do when they hesitate: at the caller's usual
    tempo hibari makes a 0.2-0.3 s murmur of it that Silero does not count as speech and Whisper hears as
    a word ("them", "arm"); slowed to FILLER_TEMPO it lasts about 0.6 s.
    """
    clauses = [clause.strip() for clause in text.split(",") if clause.strip()]
    spoken = []
    for index, clause in enumerate(clauses):
        last = index == len(clauses) - 1
        said = clause if last else clause + ","
        tempo = FILLER_TEMPO if clause.lower() in _FILLERS else TEMPO
        audio = caller_says(said, voice, tempo=tempo)
        spoken.append(trim_silence(audio, start=index > 0, end=not last))
    return silence(pause_ms).join(spoken)


FILLER_TEMPO = 0.5
_FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm"})


def trim_silence(ulaw: bytes, *, start: bool = True, end: bool = True, threshold_dbfs: float = -45.0) -> bytes:
    """The clip without the silent 20 ms frames at its start and (or) its end."""
    chunks = split_frames(ulaw, FRAME_BYTES)
    first, stop = 0, len(chunks)
    while start and first < stop and is_silent(chunks[first], threshold_dbfs=threshold_dbfs):
        first += 1
    while end and stop > first and is_silent(chunks[stop - 1], threshold_dbfs=threshold_dbfs):
        stop -= 1
    return b"".join(chunks[first:stop])


# Caller turns typical of a call to a plumber: names, addresses, times, numbers, the problem.
CALLER_TURNS = (
    "Hi, my name is John Smith.",
    "My kitchen faucet is leaking.",
    "Can someone come tomorrow at two?",
    "My address is 42 Oak Street.",
    "My number is five five five, one two three four.",
    "Yes, that works for me.",
    "The water heater is making a loud noise.",
    "I'd like to book a service call.",
    "Is there anything available on Friday morning?",
    "My name is Maria Lopez.",
    "The toilet in the upstairs bathroom is clogged.",
    "Please call me back at five zero three, five five five, zero one nine nine.",
    "No, the afternoon is better.",
    "How much is the call out fee?",
    "I live at 17 Maple Avenue in Portland.",
    "There is water all over the basement floor.",
    "Can you come on Monday at ten in the morning?",
    "Thank you, goodbye.",
)


def silence(ms: int) -> bytes:
    """`ms` milliseconds of μ-law silence at 8 kHz."""
    return silence_ulaw(ms)


def frames(ulaw: bytes) -> list[bytes]:
    """μ-law bytes as 20 ms Media Streams frames (160 bytes; the last one padded with silence)."""
    return split_frames(ulaw, FRAME_BYTES)


@cache
def _hibari_model():
    from hibari import Hibari

    return Hibari(threads=1)


def _hibari_caller(text: str, tempo: float = TEMPO) -> tuple[np.ndarray, int]:
    from hibari import dsp

    model = _hibari_model()
    rng = np.random.default_rng(SEED)
    # Played back at FORMANT_SCALE of the model's rate, everything slows by that factor: synthesize faster
    # to land on `tempo`, and pre-divide the pitch so it ends at PITCH_SCALE after the slowdown.
    speed = tempo / FORMANT_SCALE
    parts = []
    for phonemes in model.phonemize(text):
        outputs = model.sess.run(
            None,
            {"ids": np.asarray([model.ids(phonemes)], np.int64), "speed": np.asarray([speed], np.float32)},
        )
        lh, th, ln, lr, phi, f0 = (output[0] for output in outputs)
        parts.append(dsp.synth(lh, th, ln, lr, phi, f0 * (PITCH_SCALE / FORMANT_SCALE), rng))
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return audio, round(model.sample_rate * FORMANT_SCALE)


def _espeak(text: str) -> tuple[np.ndarray, int]:
    binary = shutil.which("espeak-ng")
    assert binary is not None
    result = subprocess.run(
        [binary, "-v", ESPEAK_VOICE, "-s", str(ESPEAK_WORDS_PER_MINUTE), "--stdout", "--", text],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return read_wav(result.stdout)


# ---------------------------------------------------------------------------------------------------------------
# Word error rate, normalized so that writing style does not count as an error

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1}


def normalize(text: str) -> list[str]:
    """Words for WER: lower case, no punctuation, every number as its digits ("forty two", "42" -> 4 2).

    Whisper writes "555-1234" and "2 p.m." where the caller said the words; both sides become digits.
    """
    text = text.lower().replace("p.m.", "pm").replace("a.m.", "am").replace("-", " ")
    words = re.sub(r"[^a-z0-9' ]", " ", text).replace("'", "").split()
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS:
            value = _TENS[word]
            if i + 1 < len(words) and words[i + 1] in _UNITS[1:10]:
                value += _UNITS.index(words[i + 1])
                i += 1
            out += list(str(value))
        elif word in _UNITS:
            out += list(str(_UNITS.index(word)))
        elif word.isdigit():
            out += list(word)
        else:
            out.append(word)
        i += 1
    return out


def edit_distance(a: list[str], b: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions and deletions)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]
