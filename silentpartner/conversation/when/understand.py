"""The entry point `understand_when`: read each corrected stretch of speech, merge, resolve to one result."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from silentpartner.conversation.when.calendar_words import month_day_label
from silentpartner.conversation.when.phrases import CORRECTION, NEGATED_DAY, STREET_ADDRESS, clean_segment, normalise
from silentpartner.conversation.when.results import Alternatives, Ambiguous, InThePast, TimeWindow, WhenResult
from silentpartner.conversation.when.segment import read_segment
from silentpartner.conversation.when.spec import Spec, merge
from silentpartner.conversation.when.windows import asap_window, clip, day_window, is_before, wall
from silentpartner.speech_text import DAY_NAMES, clock, spoken_day


def understand_when(text: str, now: datetime, tz: ZoneInfo) -> WhenResult | None:
    """Resolve what the caller said about time into a window in the business timezone; None if they said none.

    Windows never start before `now` (a window partly gone is cut at `now`). A precise time ("tomorrow at
    two") starts at that time and runs to the end of its day, so slots at or just after it come first. A
    day is a whole local day, a part of the day uses MORNING / AFTERNOON / EVENING, "as soon as possible"
    runs from now for ASAP_DAYS days. Both readings of "next Friday" said on a Wednesday come back as an
    Ambiguous with the question to ask; a time already gone comes back as InThePast.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz)
    today = local_now.date()
    # days ruled out go before splitting at corrections, so "Wednesday is no good" is not read as a correction
    normalised = NEGATED_DAY.sub(" ", STREET_ADDRESS.sub(" ", normalise(text)))
    either = _alternatives(normalised, local_now, today, tz)
    if either is not None:
        return either
    spec = Spec()
    found = False
    for segment in CORRECTION.split(normalised):
        piece = read_segment(clean_segment(segment), today, local_now)
        if piece.found():
            spec = merge(spec, piece) if found else piece
            found = True
    if not found:
        return None
    return _resolve(spec, local_now, today, tz)


_OR = re.compile(r"\s*,?\s*\b(?:or|or else|or maybe|either)\b\s*")


def _alternatives(normalised: str, now: datetime, today: date, tz: ZoneInfo) -> Alternatives | None:
    """ "Monday or Tuesday", "Thursday morning or Friday afternoon": two or more days, each its own window.

    A time said once applies to every day without one ("Monday or Tuesday afternoon"). Anything that is not
    a plain list of days ("this Friday or next") is left to the usual reading.
    """
    if CORRECTION.search(normalised):
        return None
    parts = [p for p in _OR.split(normalised) if p.strip()]
    if len(parts) < 2:
        return None
    pieces = [read_segment(clean_segment(p), today, now) for p in parts]
    if not all(p.day is not None and not p.choices and not p.past_label for p in pieces):
        return None
    if len({p.day for p in pieces}) < len(pieces):
        return None
    timed = [p for p in pieces if p.has_time()]
    shared = timed[-1] if len(timed) == 1 else None
    later_than_today = any(p.day is not None and p.day > today for p in pieces)
    windows: list[TimeWindow] = []
    for piece in pieces:
        if shared is not None and not piece.has_time():
            piece = replace(piece, part=shared.part, after=shared.after, before=shared.before, exact=shared.exact)
        if piece.same_weekday and later_than_today:
            # "Monday or Tuesday" said on a Tuesday, next to a later day, means next Tuesday
            piece = replace(piece, day=today + timedelta(days=7))
        result = _resolve(replace(piece, same_weekday=False), now, today, tz)
        if isinstance(result, TimeWindow):
            windows.append(result)
    if len(windows) < 2:
        return None
    return Alternatives(options=tuple(windows))


def _resolve(spec: Spec, now: datetime, today: date, tz: ZoneInfo) -> WhenResult:
    if spec.at is not None:
        at = spec.at.astimezone(tz)
        end_day = at.date() + timedelta(days=1)
        return TimeWindow(
            start=at, end=wall(end_day, 0, tz), label=f"{spoken_day(at.date(), today)} at {clock(at)}", exact=True
        )
    if spec.past_label and spec.day is not None:
        window = day_window(spec.day, spec, today, tz)
        label = spec.past_label
        return InThePast(
            window=replace(window, label=label), message=f"{label[:1].upper()}{label[1:]} has already passed."
        )
    if spec.choices:
        return _ambiguous(spec, now, today, tz)
    if spec.days:
        first, last = spec.days
        if spec.has_time() and last - first == timedelta(days=1):
            return clip(day_window(first, spec, today, tz), now)
        window = TimeWindow(
            start=wall(first, 0, tz), end=wall(last, 0, tz), label=spec.span_label or "", asap=spec.asap
        )
        return clip(window, now)
    if spec.asap and (spec.day is None or spec.flexible_today) and not spec.has_time():
        label = "as soon as possible, today if we can" if spec.flexible_today else "as soon as possible"
        return asap_window(now, today, tz, label)
    if spec.any_time and spec.day is None and not spec.has_time():
        return asap_window(now, today, tz, "as soon as possible")  # "whenever", "any time works"
    day = spec.day if spec.day is not None else today
    window = day_window(day, spec, today, tz)
    if spec.day is None and spec.part and not is_before(now, window.end):
        # "in the morning" said once this morning is over means tomorrow morning
        day = today + timedelta(days=1)
        window = day_window(day, spec, today, tz)
    if spec.same_weekday:
        later = day_window(day + timedelta(days=7), spec, today, tz)
        clipped = clip(window, now)
        if isinstance(clipped, InThePast):
            return later
        name = DAY_NAMES[day.weekday()]
        return Ambiguous(
            question=f"Do you mean today, or next {name}, {month_day_label(later.start.date(), today)}?",
            options=(clipped, later),
        )
    return clip(window, now)


def _ambiguous(spec: Spec, now: datetime, today: date, tz: ZoneInfo) -> WhenResult:
    options: list[TimeWindow] = []
    descriptions: list[str] = []
    for first, last, description in spec.choices:
        if last - first == timedelta(days=1):
            window = day_window(first, spec, today, tz)
        else:
            window = TimeWindow(
                start=wall(first, 0, tz), end=wall(last, 0, tz), label=f"the weekend of {month_day_label(first, today)}"
            )
        clipped = clip(window, now)
        if isinstance(clipped, TimeWindow):
            options.append(clipped)
            descriptions.append(description)
    if len(options) == 1:
        return options[0]
    if not options:
        return clip(day_window(spec.choices[-1][0], spec, today, tz), now)
    return Ambiguous(question=f"Do you mean {descriptions[0]}, or {descriptions[1]}?", options=tuple(options))
