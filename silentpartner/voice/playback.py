"""What the caller actually heard of the agent's lines.

Each agent line is split into sentences; each sentence's audio goes out in chunks, each chunk followed
by a mark whose tag is a `ChunkTag`. Echoed marks (`MarkPlayed`) advance how much of each sentence
was played; marks flushed by a `clear` don't. `heard_text` turns that into the words that reached the
caller, for the transcript and the conversation's context after a barge-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# After . ! or ?, before a capital, digit or quote; not after a one-letter abbreviation such as "p.m.".
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\b[a-zA-Z]\.)\s+(?=[A-Z0-9\"'])")


def split_sentences(text: str) -> list[str]:
    """Sentences, so speech can start before the whole reply is synthesized."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


@dataclass(frozen=True)
class ChunkTag:
    line: int  # which agent line
    sentence: int  # which sentence of it
    end_byte: int  # audio bytes of the sentence sent up to the end of this chunk
    total_bytes: int  # the sentence's whole audio


@dataclass
class Line:
    id: int
    text: str
    interruptible: bool
    sentences: list[str]
    total: dict[int, int] = field(default_factory=dict)  # sentence -> bytes synthesized
    played: dict[int, int] = field(default_factory=dict)  # sentence -> bytes played
    sent_all: bool = False  # every sentence synthesized and sent
    interrupted: bool = False

    def heard_text(self) -> str:
        words: list[str] = []
        for index, sentence in enumerate(self.sentences):
            total = self.total.get(index)
            played = self.played.get(index, 0)
            if not total or played <= 0:
                break
            if played >= total:
                words.extend(sentence.split())
                continue
            parts = sentence.split()
            words.extend(parts[: int(len(parts) * played / total)])
            break
        return " ".join(words)

    @property
    def fully_heard(self) -> bool:
        return self.sent_all and all(self.played.get(i, 0) >= t for i, t in self.total.items())


class PlaybackTracker:
    def __init__(self) -> None:
        self._lines: dict[int, Line] = {}
        self._next = 0

    def new_line(self, text: str, interruptible: bool) -> Line:
        self._next += 1
        line = Line(self._next, text, interruptible, split_sentences(text) or [text])
        self._lines[line.id] = line
        return line

    def line(self, line_id: int) -> Line | None:
        return self._lines.get(line_id)

    def played(self, tag: object) -> Line | None:
        if not isinstance(tag, ChunkTag):
            return None
        line = self._lines.get(tag.line)
        if line is None:
            return None
        line.played[tag.sentence] = max(line.played.get(tag.sentence, 0), tag.end_byte)
        return line

    def forget(self, line_id: int) -> None:
        self._lines.pop(line_id, None)
