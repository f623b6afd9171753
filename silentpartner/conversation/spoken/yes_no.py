"""Whether an answer means yes or no ("no worries" is a yes, "not sure" is neither)."""

from __future__ import annotations

import re

_YES_ONLY_NEGATIONS = re.compile(
    r"\b(no problem|no problems|no worries|no doubt|not a problem|why not|no prob|no issue|no issues"
    r"|(?:i )?(?:don't|do not|wouldn't|would not) mind|don't worry)\b"
)

_NO = re.compile(
    r"^(no|nope|nah|naw|negative)\b"
    r"|\b(no|nope|nah)$"
    r"|\bno (thanks|thank you|way|sir|ma'am)\b"
    r"|\bnot (really|quite|right|correct|that|at all|now|today|good)\b"
    r"|\b(that's|that is|thats|it's|its) (wrong|not)\b"
    r"|\b(wrong|incorrect)\b"
    r"|\b(doesn't|does not|won't|will not|wouldn't|would not|don't|do not|can't|cannot|can not) (work|do|suit|fit)\b"
    r"|\bi don't think so\b|\bi'd rather not\b|\bplease don't\b|\bdon't\b"
)

_YES = re.compile(
    r"\b(yes|yeah|yea|yep|yup|ya|yah|sure|correct|right|exactly|absolutely|definitely|certainly|perfect|great"
    r"|ok|okay|alright|affirmative|fine|good|works|book it|go ahead|please do|do it|of course"
    r"|uh huh|mm hmm|mhm|sounds good|sounds great|that's it|you got it|you bet|yes please|lovely|indeed|true"
    r"|send it|confirm|confirmed|yess+|yy|k|kk)\b|^y$"
)

_NOT_SURE = re.compile(r"\bnot (sure|certain)\b|\b(?:i )?(?:don't|do not|dunno) know\b|\bdunno\b|\bmaybe\b")


def _plain(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def is_no(text: str) -> bool:
    """ "no", "nope", "not really", "that's wrong", "that doesn't work" (but not "no problem")."""
    plain = _plain(text)
    if not plain:
        return False
    cleaned = _YES_ONLY_NEGATIONS.sub(" ", plain).strip()
    if not cleaned or _NOT_SURE.search(cleaned):
        return False
    return bool(_NO.search(cleaned))


def is_yes(text: str) -> bool:
    """ "yeah that works", "sounds good", "correct", "yep", "sure, no worries"."""
    plain = _plain(text)
    if not plain or is_no(text) or _NOT_SURE.search(plain):
        return False
    if _YES_ONLY_NEGATIONS.search(plain):
        return True
    return bool(_YES.search(plain))
