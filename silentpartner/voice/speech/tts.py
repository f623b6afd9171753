"""Text to speech for the agent: the hibari-tts default voice, or the espeak-ng program as the fallback.

A reply is cut into sentences (long ones at clause punctuation) so the first one can be on the phone line
while the rest is still being synthesized. Each voice turns one sentence into samples at its own rate;
`to_phone` makes 8 kHz μ-law of them.
"""

from __future__ import annotations

import re
import struct
import subprocess
from typing import Any, Protocol

import numpy as np

from silentpartner.voice.audio import pcm_to_phone

MAX_CHUNK_CHARS = 160  # a longer sentence is split at commas/semicolons so the first audio comes sooner
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+")
_TITLES = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "mt", "ave", "apt", "no"}


def split_sentences(text: str) -> list[str]:
    """Sentences in speaking order; "Dr. Smith" and "St. Johns" stay whole; very long ones split at clauses."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        start = 0
        for match in _SENTENCE_END.finditer(line):
            before = line[start : match.start()].rstrip('"”’)]')
            last_word = before.rsplit(" ", 1)[-1].rstrip(".").lower()
            if before.endswith(".") and (last_word in _TITLES or len(last_word) == 1):
                continue
            following = line[match.end() : match.end() + 1]
            if following.islower():
                continue
            sentences.append(line[start : match.start()].strip())
            start = match.end()
        sentences.append(line[start:].strip())
    return [chunk for sentence in sentences if sentence for chunk in _split_long(sentence)]


def _split_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHUNK_CHARS:
        return [sentence]
    chunks: list[str] = []
    current = ""
    for part in _CLAUSE_END.split(sentence):
        if current and len(current) + 1 + len(part) > MAX_CHUNK_CHARS:
            chunks.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    if current:
        chunks.append(current)
    return chunks


class Voice(Protocol):
    name: str

    def speak(self, sentence: str) -> tuple[np.ndarray, int]:
        """One sentence -> (samples, sample rate); float in [-1, 1] or int16."""
        ...


class HibariVoice:
    """The hibari-tts default voice ("heart", American English), 24 kHz. Seeded so output is repeatable."""

    name = "hibari"

    def __init__(self, model: Any, *, seed: int = 0) -> None:
        self._model = model
        self._seed = seed

    def speak(self, sentence: str) -> tuple[np.ndarray, int]:
        return self._model(sentence, seed=self._seed), int(self._model.sample_rate)


class EspeakVoice:
    """The espeak-ng program (Debian package espeak-ng), run as a subprocess; 22.05 kHz."""

    name = "espeak-ng"

    def __init__(self, binary: str, *, voice: str = "en-us", words_per_minute: int = 165) -> None:
        self._binary = binary
        self._voice = voice
        self._wpm = words_per_minute

    def speak(self, sentence: str) -> tuple[np.ndarray, int]:
        # "--" ends the options, so a reply that starts with "-" is still read as text.
        result = subprocess.run(
            [self._binary, "-v", self._voice, "-s", str(self._wpm), "--stdout", "--", sentence],
            capture_output=True,
            check=True,
            timeout=30,
        )
        return read_wav(result.stdout)


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """A mono 16-bit PCM WAV (as espeak-ng writes it to stdout) -> (int16 samples, rate).

    espeak-ng writing to a pipe cannot seek back to fill in the sizes, so it leaves 0x7fffffff in the
    RIFF and data lengths; the samples are everything after the data chunk's header.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    offset, rate = 12, 0
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if chunk == b"fmt ":
            audio_format, channels, rate = struct.unpack_from("<HHI", data, offset + 8)
            bits = struct.unpack_from("<H", data, offset + 22)[0]
            if audio_format != 1 or channels != 1 or bits != 16:
                raise ValueError("expected 16-bit mono PCM WAV")
        elif chunk == b"data":
            if not rate:
                raise ValueError("WAV data chunk before its fmt chunk")
            body = data[offset + 8 :]
            return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").copy(), rate
        offset += 8 + size + (size & 1)
    raise ValueError("WAV file without a data chunk")


def to_phone(voice: Voice, sentence: str) -> bytes:
    """One sentence in the given voice as 8 kHz μ-law."""
    samples, rate = voice.speak(sentence)
    if len(samples) == 0:
        return b""
    return pcm_to_phone(samples, rate)
