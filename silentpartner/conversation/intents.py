"""What a caller wants, from their words: keyword rules for the offline brain (no model involved)."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("gas", r"\b(smell(s|ing)? (of )?gas|gas (smell|leak)|smells? like gas|leaking gas)\b"),
    (
        "emergency",
        r"\b(burst|bursting|flood(ed|ing)?|sewage|sewer (is )?back(ing)? up|backing up|no water|water everywhere"
        r"|pipe (has )?(burst|broke|split)|gushing|spraying water|water (is )?pouring)\b",
    ),
    (
        "person",
        r"\b(real person|a human|talk to (a |an |the )?(person|someone|somebody|human|owner|boss|manager)"
        r"|speak (to|with) (a |an |the )?(person|someone|somebody|human|owner|boss|manager)"
        r"|put me through|transfer me|operator)\b",
    ),
    ("message", r"\b(leave (a |him a |her a )?message|take a message|pass (on )?a message|give (him|her) a message)\b"),
    (
        "reschedule",
        r"\b(reschedul\w*|move my (appointment|booking|visit)|change (my|the) (appointment|booking|time|visit)"
        r"|different (day|time)|instead\b|push (it|my appointment) back|another day)\b",
    ),
    ("cancel", r"\b(cancel\w*|call (it )?off|don'?t need (the|my) (appointment|visit) anymore)\b"),
    (
        "lookup",
        r"\b(when is my|what time is my|when'?s my|when are you (coming|guys coming)|what time are you coming"
        r"|do i have an? (appointment|booking)|my appointment (is )?when|check my (appointment|booking)"
        r"|what are my (appointments|bookings)|do i have any (appointments|bookings))\b",
    ),
    ("hours", r"\b(hours|what time do you (open|close)|are you open|when do you (open|close)|opening times)\b"),
    ("price", r"\b(how much|price|prices|cost|costs|charge|fee|fees|rates?)\b"),
    ("area", r"\b(service area|areas?|do you (come|go|cover|service|serve) (to|out)?|cover|far out)\b"),
    ("services", r"\b(what (services|do you do|kind of work)|services do you|do you (do|fix|install|handle))\b"),
    # The bare word comes after the questions: "how much is an emergency call-out?" is a price question.
    ("emergency", r"\b(emergency|urgent(ly)?)\b"),
    (
        "book",
        r"\b(book|booking|appointment|schedule|come out|come over|send someone|someone (to )?come|visit|estimate"
        r"|quote|leak\w*|drip\w*|clog\w*|block\w*|fix|repair|install|replace|broken|not working|won'?t|water heater"
        r"|toilet|drain|faucet|tap|sink|shower|pipe|plumber|garbage disposal|running|ceiling|water (coming|leaking)"
        r"|dishwasher|washing machine|sump pump|water pressure|book it)\b",
    ),
)
_COMPILED = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _PATTERNS)

_GREETING_ONLY = re.compile(
    r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|yo)[\s!.,?]*(there|anyone there)?[\s!.?]*$", re.I
)
_DONE = re.compile(
    r"\b(that'?s (all|it|everything)|nothing else|no,? (that'?s|i'?m) (good|fine|all)|bye|goodbye|all good|i'?m good"
    r"|no thanks|no thank you|that'?ll be all|have a good)\b",
    re.IGNORECASE,
)
_THANKS_ONLY = re.compile(
    r"^\s*(ok(ay)?[,.]? |great[,.]? |perfect[,.]? |cool[,.]? )?(thanks|thank you|thanks a lot|thank you so much|cheers)"
    r"( so much| very much)?[!. ]*$",
    re.IGNORECASE,
)
_NONE_OF_THOSE = re.compile(
    r"\b(none of (those|them|these)|neither|(doesn'?t|don'?t|won'?t) work|can'?t (do|make) (it|that|those|any))\b",
    re.IGNORECASE,
)
_ESTIMATE = re.compile(r"\b(estimate|quote|bid)\b", re.IGNORECASE)
_PROBLEM = re.compile(
    r"\b(leak\w*|drip\w*|clog\w*|block\w*|broken|not working|won'?t|burst|flood\w*|sewage|sewer|backing up|no water"
    r"|water heater|toilet|drain|faucet|tap|sink|shower|pipe|garbage disposal|running|install|replace|ceiling"
    r"|water (coming|leaking)|dishwasher|washing machine|sump pump|water pressure)\b",
    re.IGNORECASE,
)


def intents(text: str) -> list[str]:
    """Every intent the words match, most specific first."""
    return [name for name, pattern in _COMPILED if pattern.search(text)]


def intent(text: str) -> str | None:
    found = intents(text)
    return found[0] if found else None


def is_greeting_only(text: str) -> bool:
    return bool(_GREETING_ONLY.match(text))


def is_done(text: str) -> bool:
    return bool(_DONE.search(text) or _THANKS_ONLY.match(text))


def rejects_offer(text: str) -> bool:
    """ "none of those work", "neither", "I can't do any of those"."""
    return bool(_NONE_OF_THOSE.search(text))


def wants_estimate(text: str) -> bool:
    return bool(_ESTIMATE.search(text))


def describes_problem(text: str) -> bool:
    return bool(_PROBLEM.search(text))
