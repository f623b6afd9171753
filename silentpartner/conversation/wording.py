"""Words made ready to be heard or written down: digits one by one, a caller's problem as a clean note, a
short acknowledgement of it, lists in plain English."""

from __future__ import annotations

import re

from silentpartner.conversation.lexicon import describes_problem, fixture_in, plain
from silentpartner.conversation.memory import Memory
from silentpartner.conversation.states import Flow
from silentpartner.phones import national_format

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digits_as_words(digits: str) -> str:
    """ "0123" -> "zero one two three": a voice reads "0123" as "one hundred twenty-three"."""
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


def join_words(items: list[str], last: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} {items[-1]}"


# Openers and fillers that carry nothing for the owner: "Hi, yeah, um, so I'm calling because ...".
_OPENERS = re.compile(
    r"^(?:(?:hi|hello|hey|yeah|yes|yep|um+|uh+|er+|so|well|okay|ok|oh|right|alright|morning|afternoon|good morning"
    r"|good afternoon|good evening|hi there)\b[\s,.!-]*)+",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    r"^(?:(?:i am|i'm|i was|we are|we're) (?:just )?(?:calling|ringing|phoning|texting|wondering|hoping)"
    r"(?: (?:because|about|since|to say|to let you know|to see if|if|as))?|(?:the )?reason (?:i am|i'm) calling is"
    r"|i (?:have|got|'ve got) (?:a|an) (?:problem|issue) (?:with|where)|(?:it is|it's) (?:about|that)"
    r"|basically|so basically|you see)\b[\s,]*",
    re.IGNORECASE,
)
_FILLERS = re.compile(r"\s*,?\s*\b(?:um+|uh+|er+|erm|you know|i mean|like,|kind of|sort of)\b,?", re.IGNORECASE)


# A clause that only asks for a visit or a time ("can someone come Thursday?") is not part of the problem.
_CLAUSES = re.compile(r"(?<=[.?!;,])\s+|\s+(?:and|but|so)\s+(?=(?:can|could|would|is|are|i|we)\b)", re.IGNORECASE)


_CONTINUES = re.compile(r"^(?:and |but |so )?(?:it|it is|its|they|they are|there is|that|which|also|plus)\b")
_REQUEST = re.compile(
    r"\b(?:can|could|would|will) (?:you|someone|somebody|anyone|a plumber)\b|\b(?:send|book|schedule|available|free)\b"
    r"|\b(?:need|want) (?:someone|somebody|a plumber|you) to\b|\bcome (?:out|over|by|fix|look|take)\b"
    r"|\b(?:today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|afternoon|evening)\b"
    r"|\bat \d|\bcall me\b|\bmy (?:number|name|address) is\b|\bthis is\b"
)


def clean_note(text: str) -> str:
    """The caller's problem as a note for the booking and the owner: no greetings, fillers, preamble, or the
    request for a visit that came with it."""
    clauses = [c for c in _CLAUSES.split(text.strip()) if c.strip()]
    about = [c for c in clauses if describes_problem(plain(c))]
    # Keep what is about the problem and what carries it on ("..., it's jammed"); drop the request for a
    # visit, a time, a name or an address said in the same breath.
    kept = [
        c for c in clauses if c in about or (about and _CONTINUES.search(plain(c)) and not _REQUEST.search(plain(c)))
    ]
    note = " ".join(kept or clauses).strip()
    for _ in range(3):  # "Hi, yeah, um, so I'm calling because ..." peels in layers
        note = _PREAMBLE.sub("", _OPENERS.sub("", note)).strip()
    note = _FILLERS.sub("", note)
    note = re.sub(r"\s{2,}", " ", note).strip(" ,;-")
    note = re.sub(r"[,;]$", ".", note)
    if not note:
        return text.strip()
    return note[:1].upper() + note[1:]


def acknowledgement(problem: str) -> str:
    """A short, human acknowledgement of the caller's trouble: "Sorry to hear about the water heater." """
    fixture = fixture_in(plain(problem))
    if fixture in ("ceiling", "basement"):
        return f"Oh no, sorry to hear about the {fixture}."
    if fixture:
        return f"Sorry to hear about the {fixture}."
    return "Sorry to hear that."


def caller_line(memory: Memory) -> str:
    """ "John Smith (+15035550123)" for the owner."""
    d = memory.details
    return f"{d.name or 'A caller'} ({d.phone or memory.caller or 'no number'})"


_WANTS = {
    Flow.BOOK: "wants to book a visit",
    Flow.EMERGENCY: "has an emergency",
    Flow.RESCHEDULE: "wants to move an appointment",
    Flow.CANCEL: "wants to cancel an appointment",
    Flow.LOOKUP: "is asking about an appointment",
    Flow.MESSAGE: "wants a call back",
}


def owner_summary(memory: Memory) -> str:
    """One sentence for the owner: who, what, what they want (a transfer whisper, a hand-over text)."""
    d = memory.details
    who = caller_and_problem(d.name, d.phone or memory.caller, d.problem, d.address)
    return who + f"; {_WANTS.get(memory.flow, 'asked to speak to you')}."


def caller_and_problem(name: str | None, number: str | None, problem: str | None, address: str | None) -> str:
    """ "John Smith, (503) 555-0123, about: a leaking tap, at 12 Oak St" for the owner (also a call's summary)."""
    parts = [(name or "A caller") + (f", {national_format(number)}" if number else "")]
    if problem:
        parts.append(f"about: {problem.rstrip('.')}")
    if address:
        parts.append(f"at {address}")
    return ", ".join(parts)
