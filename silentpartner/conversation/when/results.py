"""What time understanding returns: a window to search, a question to ask, or an honest "that has passed"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # aware, business tz
    end: datetime  # aware, business tz (exclusive)
    label: str  # how to say it back: "tomorrow afternoon", "Thursday the 26th", "tomorrow at 2 PM"
    exact: bool = False  # caller named a precise time ("at two") -> prefer slots at/closest to start
    asap: bool = False  # "as soon as possible", "earliest", "today if you can"


@dataclass(frozen=True)
class Ambiguous:
    question: str  # "Do you mean this Friday, the 27th, or next Friday, December the 4th?"
    options: tuple[TimeWindow, ...]


@dataclass(frozen=True)
class InThePast:
    window: TimeWindow  # what they asked for (already gone)
    message: str  # honest answer, e.g. "2 PM today has already passed."


@dataclass(frozen=True)
class Alternatives:
    """ "Monday or Tuesday": the caller is flexible between these windows; offer times in each."""

    options: tuple[TimeWindow, ...]

    @property
    def label(self) -> str:
        labels = [o.label for o in self.options]
        return ", ".join(labels[:-1]) + f" or {labels[-1]}"


WhenResult = TimeWindow | Alternatives | Ambiguous | InThePast
