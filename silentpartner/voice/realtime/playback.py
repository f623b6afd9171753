"""What the caller has heard of the model's audio, from Twilio's mark echoes (sans-I/O).

Each media message we send to Twilio is followed by a mark named by a running number; Twilio echoes a mark
when the audio before it has played, so an echo moves the heard position of its item to the milliseconds
sent up to that mark. Between echoes the audio keeps playing at real time, so at a barge-in the heard
position is the last echo's plus the time since, never more than was sent (OpenAI answers a truncate past
the audio it produced with an error). After a `clear` Twilio echoes every pending mark at once: those mean
flushed, not played, and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ULAW_BYTES_PER_MS = 8


@dataclass
class ItemAudio:
    item_id: str
    sent_ms: int = 0  # audio of this item sent to Twilio so far
    heard_ms: int = 0  # as of `heard_at`
    heard_at: float | None = None  # None: nothing of it has started playing


@dataclass
class PlaybackLedger:
    current: ItemAudio | None = None
    marks: dict[str, tuple[str, int]] = field(default_factory=dict)  # pending mark -> (item, sent_ms at it)
    truncated: set[str] = field(default_factory=set)  # items whose later deltas are stale
    _next_mark: int = 0
    _queued_until: float = 0.0  # when the audio already buffered at Twilio ends, were it all to play

    def is_stale(self, item_id: str) -> bool:
        return item_id in self.truncated

    def sent(self, item_id: str, nbytes: int, now: float) -> str:
        """Audio of `item_id` went to Twilio; returns the name of the mark to send after it."""
        ms = nbytes // ULAW_BYTES_PER_MS
        if self.current is None or self.current.item_id != item_id:
            self.current = ItemAudio(item_id)
        item = self.current
        if item.heard_at is None and not self.marks:
            item.heard_at = max(now, self._queued_until)  # Twilio plays it at once: nothing is buffered ahead
        self._queued_until = max(now, self._queued_until) + ms / 1000
        item.sent_ms += ms
        self._next_mark += 1
        name = f"r{self._next_mark}"  # "r": not the offline engine's marks ("m1", ...)
        self.marks[name] = (item_id, item.sent_ms)
        return name

    def echoed(self, name: str, now: float) -> bool:
        """Twilio played up to the mark `name`. False for a mark we did not send (or already settled)."""
        found = self.marks.pop(name, None)
        if found is None:
            return False
        item_id, sent_ms = found
        if self.current is not None and self.current.item_id == item_id:
            self.current.heard_ms, self.current.heard_at = sent_ms, now
        return True

    @property
    def playing(self) -> bool:
        """Audio is (or may be) still buffered at Twilio."""
        return bool(self.marks)

    def heard_ms(self, now: float) -> int:
        item = self.current
        if item is None or item.heard_at is None:
            return 0
        return max(0, min(item.sent_ms, item.heard_ms + round((now - item.heard_at) * 1000)))

    def barge_in(self, now: float) -> tuple[str, int] | None:
        """The caller spoke over the model: (item to truncate, audio_end_ms), or None when nothing of the
        model's is still playing. Forgets the pending marks (their echoes will be flushes) and marks the
        item's later deltas stale."""
        item = self.current
        if item is None or not self.marks:
            return None
        end = self.heard_ms(now)
        self.truncated.add(item.item_id)
        self.marks.clear()
        self._queued_until = 0.0
        self.current = None
        return item.item_id, end
