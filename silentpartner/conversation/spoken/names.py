"""A caller's name, said ("this is Maria", "John Smith here") or spelled out ("S M I T H")."""

from __future__ import annotations

import re

from silentpartner.conversation.spoken.numbers import REPEATS

# Words that show the answer is not a name (so "my sink is leaking" or "yes" is never taken as one).
_NOT_NAME_WORDS = frozenset(
    """
    a an the and or but if so to of in on at by for from with about as into over under up down out off
    i me my mine we us our you your he him his she her it its they them their this that these those there here
    is am are was were be been being do does did have has had will would can could should may might must
    not no yes yeah yep yup nope sure okay ok right correct wrong hi hello hey thanks thank please sorry
    well um uh huh hmm mm mhm hm er ah oh nah nope
    like just really very good great fine bad what when where why how who which
    calling call called need needs want wants looking look trying try help leak leaking leaks broken break
    sink toilet pipe pipes water heater drain clogged clog faucet shower tub bath kitchen basement flood
    flooding burst gas smell sewer sewage plumber plumbing appointment book booking schedule cancel
    reschedule today tomorrow morning afternoon evening tonight monday tuesday wednesday thursday friday
    saturday sunday week weekend time number phone address street email name last first
    emergency urgent problem issue question quote price cost estimate service repair install
    calls got get going go come coming something nothing anything everything someone somebody
    one two three four five six seven eight nine ten owner person human manager customer
    spell spelled spelling letter letters mister mrs ms miss mr dr doctor sir madam
    ready home back done busy new happy interested wondering hoping available free outside inside away late
    early worried afraid glad fixed stuck cold hot warm running dripping noise noisy loud wet dry full empty
    disposal garbage furnace boiler radiator valve meter sprinkler hose roof gutter tile outlet breaker panel
    wiring electrical heating cooling ac hvac thermostat dishwasher washer dryer fridge sump pump septic main
    line backup backed blocked overflowing overflow smells smelly house apartment building office store shop
    job work working works quick quickly asap soon later now then also too again still yet
    """.split()
)

_NAME_INTRO = re.compile(
    r"\b(?:my name is|my name's|name is|name's|names|my first name is|my last name is|the name is"
    r"|this is|it's|it is|i'm|i am|call me|you can call me|they call me|speaking with|you're speaking with)\s+(.+)",
    re.IGNORECASE,
)

_LEADING_FILLER = re.compile(
    r"^(?:(?:um+|uh+|er+|so|well|yeah|yes|yep|sure|okay|ok|oh|hi|hello|hey|right)\b[\s,.!-]*)+", re.IGNORECASE
)

_NAME_TOKEN = re.compile(r"^[A-Za-z][A-Za-z'\-]*$")
_NAME_STOP = frozenset({"and", "from", "calling", "i", "with", "at", "my", "here", "speaking", "but", "who"})


def title_case(word: str) -> str:
    """ "garcia-lopez" -> "Garcia-Lopez", "o'brien" -> "O'Brien"."""
    parts = []
    for part in word.split("-"):
        head, apostrophe, tail = part.partition("'")
        if apostrophe and len(head) == 1 and tail:
            parts.append(f"{head.upper()}'{tail[:1].upper()}{tail[1:].lower()}")
        else:
            parts.append(part[:1].upper() + part[1:].lower())
    return "-".join(parts)


def _name_from_words(words: list[str]) -> str | None:
    taken: list[str] = []
    for word in words:
        if word.lower() in _NAME_STOP:
            break
        taken.append(word)
    if not taken or len(taken) > 3:
        return None
    for word in taken:
        if not _NAME_TOKEN.match(word) or word.lower() in _NOT_NAME_WORDS:
            return None
        if len(word.replace("'", "").replace("-", "")) < 2:
            return None
    return " ".join(title_case(w) for w in taken)


def extract_name(text: str) -> str | None:
    """A caller's name: "my name is John Smith", "this is Maria", "J O H N", or just "John Smith"."""
    text = text.strip().replace("’", "'")
    if not text:
        return None
    spelled = spelled_word(text)
    if spelled:
        return spelled
    intro = _NAME_INTRO.search(text)
    if intro:
        rest = intro.group(1)
        # A spelling after the name ("John, J O H N") confirms it; the name itself comes first.
        first_clause = re.split(r"[,.;!?]", rest, maxsplit=1)[0]
        words = first_clause.split()
        name = _name_from_words(words)
        if name:
            return name
        spelled_rest = spelled_word(rest)
        if spelled_rest:
            return spelled_rest
        return None
    # "John Smith." alone, or "John Smith, J O H N", after any "um," or "yeah,"
    text = _LEADING_FILLER.sub("", text)
    first_clause = re.split(r"[,.;!?]", text, maxsplit=1)[0].strip()
    words = first_clause.split()
    if words and words[-1].lower() in ("here", "speaking"):
        words = words[:-1]
    if len(words) == len(first_clause.split()) and any(w.lower() in _NAME_STOP for w in words):
        return None
    return _name_from_words(words)


_LETTER_RUN = re.compile(r"^(?:[A-Za-z](?:\s*[-.,\s]\s*|$)){2,}$")
_AS_IN = re.compile(r"\b([a-z])\s+(?:as in|like)\s+[a-z]+\b", re.IGNORECASE)
_DOUBLE_LETTER = re.compile(r"\b(double|triple)\s+([a-z])\b", re.IGNORECASE)

_SPELL_PREFIX = re.compile(
    r"^(?:(?:it's|it is|that's|that is|its)\s+)?(?:spelled|spelt|spelling is|spelled as|spelt as)?\s*[:,]?\s*",
    re.IGNORECASE,
)


def spelled_word(text: str) -> str | None:
    """Letters spelled out, "S M I T H", "s-m-i-t-h", "S. M. I. T. H.", "double L" -> a title-case word."""
    candidate = _SPELL_PREFIX.sub("", text.strip().replace("’", "'")).strip().rstrip(".!?").strip()
    candidate = _AS_IN.sub(lambda m: m.group(1), candidate)
    candidate = _DOUBLE_LETTER.sub(lambda m: " ".join(m.group(2) * REPEATS[m.group(1).lower()]), candidate)
    if not _LETTER_RUN.match(candidate):
        return None
    # "J-O-H-N S-M-I-T-H": hyphens join the letters of a word, spaces part the words
    groups = re.findall(r"[A-Za-z](?:-[A-Za-z])+", candidate)
    if len(groups) > 1 and re.fullmatch(r"[A-Za-z](?:-[A-Za-z])+(?:\s+[A-Za-z](?:-[A-Za-z])+)+", candidate):
        return " ".join(title_case(group.replace("-", "")) for group in groups)
    letters = "".join(ch for ch in candidate if ch.isalpha())
    if len(letters) < 2:
        return None
    return letters[0].upper() + letters[1:].lower()


_NOT_A_NAME = frozenset({"actually", "well", "okay", "ok", "so", "um", "uh", "hmm", "sorry", "yeah", "hello", "hi"})
# How a caller introduces themselves out of turn. "It's"/"I'm" only count before a capitalised word ("I'm Dana"):
# "it's jammed" and "I'm calling about" are not names.
_INTRO = re.compile(r"\b(my name|name is|name's|this is|call me|you're speaking with|speaking with)\b", re.I)
_CAPITAL_INTRO = re.compile(r"\b(?i:it's|it is|i'm|i am)\s+([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})\b")
_HERE = re.compile(r"(?:^|[,.!?]\s*|\b(?i:hi|hello|hey),?\s+)([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)\s+(?i:here)\b")


def _usable(name: str | None) -> str | None:
    return name if name and name.split()[0].lower() not in _NOT_A_NAME else None


def introduced_name(said: str) -> str | None:
    """A name the caller introduced, whatever was asked: "my name is ...", "I'm Dana ...", "Nora Quinn here"."""
    intro = _INTRO.search(said)
    candidates = [said[intro.start() :]] if intro else []
    for pattern in (_CAPITAL_INTRO, _HERE):
        match = pattern.search(said)
        if match:
            candidates.append(match.group(1))
    for candidate in candidates:
        name = _usable(extract_name(candidate))
        if name:
            return name
    return None


def answered_name(said: str) -> str | None:
    """The answer to "what's your name?": the whole answer, or its first part ("Dave Kim, and call me on ...")."""
    first_clause = re.split(r"[,;.!?]| and ", said, maxsplit=1)[0]
    for candidate in (said, first_clause):
        name = _usable(extract_name(candidate) or capitalised_name(candidate))
        if name:
            return name
    return None


def capitalised_name(text: str) -> str | None:
    """Two or three capitalised words said as a name ("Doug Price"), even when one of them is also a word
    ("Price", "Page", "Bill")."""
    words = text.strip().rstrip(".!?").split()
    if 2 <= len(words) <= 3 and all(re.fullmatch(r"[A-Z][a-z'-]+", w) for w in words):
        if words[0].lower() not in _NOT_A_NAME and extract_name(words[0]):
            return " ".join(words)
    return None
