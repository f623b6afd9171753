"""Gathering DTMF keys into one entry: `#` ends it at once, otherwise a pause does. Sans-I/O: the caller
of `press` and `poll` supplies the time."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_DIGITS = 32


@dataclass
class DtmfGatherer:
    pause_s: float = 2.0
    _digits: list[str] = field(default_factory=list)
    _last_at: float | None = None

    def press(self, digit: str, now: float) -> str | None:
        """Add a key; returns the gathered entry when this key ends it (`#`, or too many keys)."""
        if digit == "#":
            return self._take() if self._digits else None
        self._digits.append(digit)
        self._last_at = now
        if len(self._digits) >= MAX_DIGITS:
            return self._take()
        return None

    def poll(self, now: float) -> str | None:
        """The entry, once `pause_s` has passed since the last key."""
        if self._digits and self._last_at is not None and now - self._last_at >= self.pause_s:
            return self._take()
        return None

    def deadline(self) -> float | None:
        """When `poll` will next have something to give, if keys are waiting."""
        return self._last_at + self.pause_s if self._digits and self._last_at is not None else None

    def _take(self) -> str:
        digits = "".join(self._digits)
        self._digits.clear()
        self._last_at = None
        return digits
