"""An email address typed, or said out loud ("john at example dot com")."""

from __future__ import annotations

import re

from silentpartner.conversation.spoken.numbers import UNITS

_EMAIL_LITERAL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")

_EMAIL_INTRO = frozenset(
    {"is", "it's", "its", "email", "e-mail", "address", "my", "me", "at:", "to", "use", "send", "it", "try", "the"}
)

_EMAIL_SYMBOLS = {"dot": ".", "period": ".", "point": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_EMAIL_SHAPE = re.compile(r"^[a-z0-9](?:[a-z0-9._+\-]*[a-z0-9])?@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)+$")


def _email_part(words: list[str]) -> str:
    out: list[str] = []
    for word in words:
        if word in _EMAIL_SYMBOLS:
            out.append(_EMAIL_SYMBOLS[word])
        elif word in UNITS and word not in ("o", "oh"):
            out.append(str(UNITS[word]))
        else:
            out.append(word)
    return "".join(out)


def extract_email(text: str) -> str | None:
    """An email address said out loud or typed: "john at example dot com" -> "john@example.com"."""
    literal = _EMAIL_LITERAL.search(text)
    if literal:
        return literal.group(0).lower().rstrip(".")
    # speech recognisers mix forms: "john at example.com", "john @ example dot com"
    spoken = re.sub(r"(?<=\w)\.(?=\w)", " dot ", text.lower().replace("’", "'")).replace("@", " at ")
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", spoken)
    for at in range(len(words) - 1, 0, -1):
        if words[at] != "at":
            continue
        local_words: list[str] = []
        k = at - 1
        while k >= 0 and words[k] not in _EMAIL_INTRO:
            local_words.insert(0, words[k])
            k -= 1
        domain_words: list[str] = []
        k = at + 1
        # labels joined by separators: "example dot co dot uk", "my dash site dot com"
        while k < len(words) and words[k] not in _EMAIL_SYMBOLS:
            domain_words.append(words[k])
            if k + 2 < len(words) and words[k + 1] in ("dot", "period", "point", "dash", "hyphen"):
                domain_words.append(words[k + 1])
                k += 2
                continue
            break
        if not local_words or not ({"dot", "period", "point"} & set(domain_words)):
            continue
        candidate = f"{_email_part(local_words)}@{_email_part(domain_words)}"
        if _EMAIL_SHAPE.match(candidate):
            return candidate
    return None
