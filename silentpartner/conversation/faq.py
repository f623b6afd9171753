"""Matching a caller's question to the business's FAQ by meaning, offline.

Words become concepts (a small table of trade synonyms: "card", "credit", "venmo" all mean paying; "guarantee"
means warranty), stripped of endings and stop words; a question matches the FAQ entry whose concepts it shares
most, weighted by how rare each concept is among the FAQ's questions (TF-IDF cosine). A score under
`THRESHOLD` is no match: a wrong answer is worse than "let me have Mike get back to you on that".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from silentpartner.conversation.lexicon import plain

THRESHOLD = 0.45
ANSWER_WEIGHT = 0.3

_STOP = frozenset(
    """a an the and or but if so to of in on at by for from with about as into is am are was were be been being do does
    did have has had will would can could should may might must i me my we us our you your he him his she her it its
    they them their this that these those there here what when where which who whom how why please hi hello hey just
    any some anything something yeah yes ok okay um uh like really also too get got go going want wanted wondering
    know tell ask question quick one thing not no all much many guys guy oh before forget forgot wondering
    call calls calling service services servicing unit units""".split()
)

# Words that mean the same thing to a trades customer, mapped to one concept.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "pay": (
        "pay",
        "payment",
        "paying",
        "card",
        "cards",
        "credit",
        "debit",
        "cash",
        "check",
        "cheque",
        "venmo",
        "zelle",
        "paypal",
        "apple",
        "financing",
        "finance",
        "installment",
        "installments",
        "accept",
        "take",
    ),
    "warranty": ("warranty", "warranties", "guarantee", "guarantees", "guaranteed", "warrant", "workmanship"),
    "license": (
        "license",
        "licensed",
        "licence",
        "licenced",
        "insured",
        "insurance",
        "bonded",
        "certified",
        "qualified",
        "legit",
    ),
    "weekend": ("weekend", "weekends", "saturday", "saturdays", "sunday", "sundays"),
    "evening": ("evening", "evenings", "night", "nights", "late", "after"),
    "estimate": ("estimate", "estimates", "quote", "quotes", "bid", "bids", "assessment"),
    "price": (
        "price",
        "prices",
        "cost",
        "costs",
        "charge",
        "charges",
        "charging",
        "fee",
        "fees",
        "rate",
        "rates",
        "expensive",
        "cheap",
        "free",
    ),
    "parts": ("parts", "part", "materials", "material", "supplies", "fixture", "fixtures", "own"),
    "discount": (
        "discount",
        "discounts",
        "senior",
        "seniors",
        "military",
        "veteran",
        "veterans",
        "coupon",
        "deal",
        "deals",
        "special",
        "offer",
    ),
    "time": ("long", "duration", "hours", "minutes", "quickly", "fast", "take"),
    "arrive": ("arrive", "arriving", "arrival", "window", "show", "ahead", "heads", "notice", "text", "texts"),
    "clean": ("clean", "cleanup", "mess", "shoes", "booties", "tidy"),
    "pets": ("pet", "pets", "dog", "dogs", "cat", "cats"),
    "brand": ("brand", "brands", "make", "makes", "model", "models", "kohler", "moen", "rheem", "navien", "rinnai"),
    "tankless": ("tankless", "on-demand", "demand"),
    "permit": ("permit", "permits", "inspection", "inspections", "code"),
    "commercial": ("commercial", "business", "businesses", "restaurant", "office", "landlord", "rental", "tenant"),
}
_CONCEPT_OF = {word: concept for concept, words in _CONCEPTS.items() for word in words}


def concepts(text: str) -> list[str]:
    """The content of a sentence as concepts: synonyms folded, endings and stop words dropped."""
    out = []
    for word in re.findall(r"[a-z0-9][a-z0-9'-]*", plain(text)):
        if word in _STOP:
            continue
        if word in _CONCEPT_OF:
            out.append(_CONCEPT_OF[word])
            continue
        stem = _stem(word)
        out.append(_CONCEPT_OF.get(stem, stem))
    return out


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class Entry(Protocol):
    question: str
    answer: str


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


def best_match(text: str, entries: Sequence[Entry]) -> Match | None:
    """The FAQ entry the caller's words ask about, or None when none is close enough."""
    if not entries:
        return None
    asked = set(concepts(text))
    if not asked:
        return None
    # An entry is about what its question asks and, more faintly, what its answer names ("Navien" is only in
    # the answer of "do you work on tankless heaters?").
    documents: list[dict[str, float]] = []
    for entry in entries:
        weights = dict.fromkeys(concepts(entry.answer), ANSWER_WEIGHT)
        weights.update(dict.fromkeys(concepts(entry.question), 1.0))
        documents.append(weights)
    count = len(documents)
    idf = {c: math.log((1 + count) / (1 + sum(c in d for d in documents))) + 1 for d in documents for c in d}
    best: Match | None = None
    for entry, doc in zip(entries, documents, strict=True):
        shared = asked.intersection(doc)
        if not shared:
            continue
        dot = sum(idf[c] ** 2 * doc[c] for c in shared)
        norm_doc = math.sqrt(sum((idf[c] * w) ** 2 for c, w in doc.items()))
        norm_asked = math.sqrt(sum(idf.get(c, 1.0) ** 2 for c in asked))
        score = dot / (norm_doc * norm_asked)
        if best is None or score > best.score:
            best = Match(entry, score)
    return best if best is not None and best.score >= THRESHOLD else None
