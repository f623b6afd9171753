"""Answering "this Friday or next?": which of the offered readings the caller picked."""

from __future__ import annotations

import re

from silentpartner.conversation.when.calendar_words import WEEKDAY_WORD, weekday_index
from silentpartner.conversation.when.phrases import clean_segment, normalise
from silentpartner.conversation.when.results import Ambiguous, TimeWindow

_FIRST_CHOICE = re.compile(
    r"\b(this|first|former|earlier|sooner|soonest|earliest|closer|nearer|coming|this week|this one|today|that one)\b"
)

_SECOND_CHOICE = re.compile(
    r"\b(next|second|latter|later|after|following|next week|next one|the other|last one|further|farther)\b"
)


def resolve_choice(text: str, ambiguous: Ambiguous) -> TimeWindow | None:
    """Which option the caller picked: "this one", "next", "the 4th", "December 4th"; None if unclear."""
    said = clean_segment(normalise(text))
    if not said:
        return None
    # A day of the month names one option outright.
    for match in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)\b|\bthe (\d{1,2})\b", said):
        day_number = match.group(1) or match.group(2)
        picked = [o for o in ambiguous.options if o.start.day == int(day_number)]
        if len(picked) == 1 and not re.search(rf"\bnot (?:the )?{day_number}", said):
            return picked[0]
        ordinal_position = re.fullmatch(r"(?:the )?([12])(?:st|nd)(?: one)?", said)
        if not picked and ordinal_position and int(ordinal_position.group(1)) <= len(ambiguous.options):
            # "the second" when neither option falls on the 2nd: the second option
            return ambiguous.options[int(ordinal_position.group(1)) - 1]
    for match in re.finditer(rf"\b({WEEKDAY_WORD})\b", said):
        weekday = weekday_index(match.group(1))
        picked = [o for o in ambiguous.options if o.start.weekday() == weekday]
        if len(picked) == 1:
            return picked[0]
    for option in ambiguous.options:
        month = f"{option.start:%B}".lower()
        if re.search(rf"\b{month}\b", said) and sum(f"{o.start:%B}".lower() == month for o in ambiguous.options) == 1:
            return option
    last = len(ambiguous.options) - 1
    picks: list[tuple[int, int]] = []
    for pattern, index in ((_FIRST_CHOICE, 0), (_SECOND_CHOICE, last)):
        for match in pattern.finditer(said):
            if said[: match.start()].rstrip().endswith("not"):
                # "not this one" picks the other of two; with more options it says nothing
                if last == 1:
                    picks.append((match.start(), 1 - index))
                continue
            picks.append((match.start(), index))
    if not picks:
        return None
    choices = {index for _, index in picks}
    if len(choices) > 1:
        # "not this one, the next": the last thing said wins
        return ambiguous.options[max(picks)[1]]
    return ambiguous.options[picks[0][1]]
