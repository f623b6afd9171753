"""What the words so far say about whether the caller has finished their turn.

Whisper transcribes the caller's turn so far at each pause; `read_turn` looks at how that text ends:

- unfinished: the last clause stops on a word that cannot end one ("and", "because", "the", "my", "is",
  "to", ...), on a filler ("um", "like"), on a comma, ellipsis or dash, or part way through a phone number
  (1 to 9 digits said while giving a number). The caller is mid-thought: wait long.
- unsure: the words could be a whole turn but often are not: a greeting or an "okay" on its own, a single
  word, or (to an open question) a noun phrase with no verb yet ("my water heater,"). Wait a little.
- finished: nothing above. The sound of the voice (the end-of-turn model) gets the last word.

`expect` is what the agent's last question invited (conversation.events.Expect): a yes/no question makes a
bare "yeah" a whole answer; a phone number makes any part-number unfinished.

Pure functions, no I/O; the word lists are small on purpose and favour waiting over interrupting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from silentpartner.conversation.events import Expect

Verdict = Literal["finished", "unsure", "unfinished"]

# Words a clause cannot end on: conjunctions and subordinators, prepositions that need an object, articles
# and possessives, auxiliaries and the copula, subject pronouns, and verbs that announce more to come.
_AUXILIARIES = frozenset(
    "is are was were am be been being has have had will would could should can shall must may might do does did".split()
)
_CONTINUES = _AUXILIARIES | frozenset(
    """
    and but or nor so because cause cuz if when while although though unless until than which whose whether
    to of for with at from about by into onto near under between without
    the a an my our your their his its every each another
    i we they he she
    wondering hoping trying gonna wanna gotta
    """.split()
)
_PRONOUNS = frozenset({"i", "it", "we", "they", "he", "she", "you", "that", "there"})
# "I think so", "I hope so": "so" ending a clause as an answer, not as a connective.
_SO_ANSWERS = frozenset({"think", "hope", "guess", "believe", "said", "suppose", "not"})
_FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm", "like"})
_FILLER_PAIRS = frozenset({("you", "know"), ("i", "mean"), ("kind", "of"), ("sort", "of")})

# On their own these are a whole answer to any question.
_ANSWERS = frozenset({"yes", "no", "yep", "nope", "correct", "exactly", "sure", "absolutely", "definitely"})
# On their own these answer a yes/no question, but after an open one they are the caller starting to talk.
_ACKNOWLEDGEMENTS = frozenset({"yeah", "yup", "okay", "ok", "alright", "right", "mhm", "uh-huh"})
_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "morning", "afternoon", "evening", "good", "there"})
_PREAMBLE = _GREETINGS | _ACKNOWLEDGEMENTS | _FILLERS | {"so", "well", "oh", "yes", "sir", "ma'am", "please"}
_POLITE_TAILS = frozenset({"please", "thanks", "sir", "ma'am"})

# A clause that starts like a noun phrase and has none of these has no verb yet ("my kitchen sink").
_DETERMINERS = frozenset({"the", "a", "an", "my", "our", "your", "their", "his", "her", "this", "these", "those"})
_VERBS = frozenset(
    """
    is are was were am be been has have had will would could should can do does did need needs want wants
    leak leaks drip drips work works broke burst keeps kept got get gets make makes smell smells sounds looks
    won't wont stopped started came come comes go goes went runs ran clogged flooded backed overflowed
    """.split()
)
_LEAD_INS = _FILLERS | _ACKNOWLEDGEMENTS | {"so", "and", "but", "well", "oh", "then", "also"}
_CONTRACTED = re.compile(r"'(s|re|m|ve|ll|d)$|n't$")

# Digits each word stands for when a phone number is read out ("double five" is two).
_DIGIT_WORDS = {
    **dict.fromkeys("zero one two three four five six seven eight nine".split(), 1),
    "double": 1,
    "triple": 2,
}
_NUMBER_CONTEXT = frozenset({"number", "phone", "cell", "mobile", "reach", "call", "callback", "text"})
PHONE_DIGITS = 10  # a North American number without the country code

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z]+)*")
_CLAUSE_BREAK = re.compile(r"[.!?;,]+")
_TRAILING_PAUSE = re.compile(r"(,|\.\.\.|…|-|—|–|;|:)\s*$")


@dataclass(frozen=True)
class TextReading:
    verdict: Verdict
    reason: str


def read_turn(text: str, expect: Expect = "open") -> TextReading:
    """How the transcript of a turn so far ends: finished, unsure, or unfinished (with why, for the logs)."""
    stripped = text.strip()
    words = words_of(stripped)
    if not words:
        return TextReading("unsure", "no words")
    if _TRAILING_PAUSE.search(stripped):
        return TextReading("unfinished", "trailing pause mark")
    digits = digits_said(words)
    giving_number = expect == "phone" or bool(_NUMBER_CONTEXT & set(words))
    if 0 < digits < PHONE_DIGITS and giving_number:
        return TextReading("unfinished", f"part of a phone number ({digits} digits)")
    last = words[-1]
    if last in _FILLERS or tuple(words[-2:]) in _FILLER_PAIRS:
        return TextReading("unfinished", f"filler {last!r}")
    if last in _CONTINUES and not _so_as_answer(words) and not _elliptical_answer(words):
        return TextReading("unfinished", f"clause ends on {last!r}")
    if expect == "address" and last.isdigit():
        return TextReading("unfinished", "a house number with no street yet")

    core = [word for word in words if word not in _POLITE_TAILS] or words
    if len(core) == 1 and core[0] in _ANSWERS:
        return TextReading("finished", "a yes or no")
    if all(word in _ACKNOWLEDGEMENTS | _ANSWERS for word in core):
        if expect == "yes_no":
            return TextReading("finished", "a yes or no")
        return TextReading("unsure", "an acknowledgement on its own")
    if all(word in _PREAMBLE for word in words):
        return TextReading("unsure", "a greeting on its own")
    if digits >= PHONE_DIGITS and giving_number:
        return TextReading("finished", "a whole phone number")
    if len(words) == 1:
        return TextReading("unsure", "a single word")
    if expect == "open" and _verbless_noun_phrase(_last_clause(stripped)):
        return TextReading("unsure", "a noun phrase with no verb yet")
    return TextReading("finished", "reads as finished")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def digits_said(words: list[str]) -> int:
    """How many phone digits the words hold: written digits, and digit words ("five oh three")."""
    count = 0
    for index, word in enumerate(words):
        if word.isdigit():
            count += len(word)
        elif word in ("oh", "o"):
            # "oh" is a zero only among other digits ("five oh three"), not "oh, and ..."
            neighbours = words[max(0, index - 1) : index] + words[index + 1 : index + 2]
            if any(w.isdigit() or w in _DIGIT_WORDS for w in neighbours):
                count += 1
        elif word in _DIGIT_WORDS:
            count += _DIGIT_WORDS[word]
    return count


def _so_as_answer(words: list[str]) -> bool:
    return words[-1] == "so" and len(words) > 1 and words[-2] in _SO_ANSWERS


def _elliptical_answer(words: list[str]) -> bool:
    """ "Yes, it is.", "I do." and "It was." end on an auxiliary and are whole answers."""
    if words[-1] not in _AUXILIARIES:
        return False
    short_reply = len(words) <= 3 and len(words) >= 2 and words[-2] in _PRONOUNS
    return short_reply or bool(set(words[:2]) & (_ANSWERS | _ACKNOWLEDGEMENTS))


def _last_clause(text: str) -> list[str]:
    """The words after the last punctuation, without the "so", "and", "um" that lead into them."""
    parts = [part for part in _CLAUSE_BREAK.split(text) if words_of(part)]
    words = words_of(parts[-1]) if parts else []
    while words and words[0] in _LEAD_INS:
        words = words[1:]
    return words


def _verbless_noun_phrase(words: list[str]) -> bool:
    if not words or words[0] not in _DETERMINERS:
        return False
    for word in words:
        if word in _VERBS or _CONTRACTED.search(word) or (len(word) > 4 and word.endswith(("ing", "ed"))):
            return False
    return True
