"""What each clause of a question does: ask for something, tell the history, or say what the worry is now.

Cue words are data (``data/clause_roles.yaml``). A clause *asks* when it holds a question or request
word ('which', 'show'); a clause is *background* when it tells the past ('ten years ago', 'as a
baby', 'runs in the family'); a clause is the *focus* when it says what is wanted or feared now ('but
now they want to check ...', 'the doctor thinks ...'). The resolver weighs what background clauses name
less; in a long question that has a focus, what the other clauses name weighs less too (a patient's
story mentions many body parts, the focus says which one is meant), and a kind word ('bone', 'tube')
counts as asked for only in the opening words or in a clause that asks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from medsee_cli.reasoning import data
from medsee_cli.reasoning.text import Parsed, holds, phrase_key

ROLES_RESOURCE = "clause_roles.yaml"
BACKGROUND_FACTOR = 0.5  # what a background clause names, and its meaning, weigh this much
ASIDE_FACTOR = 0.4  # in a long question with a focus, a clause that is neither focus nor background
OPENING_WORDS = 4  # a kind word this early is what the question is about ('the bone that ...')


@dataclass(frozen=True)
class _Cues:
    asking: frozenset[str]
    background: tuple[tuple[str, ...], ...]
    focus: tuple[tuple[str, ...], ...]
    superseded: tuple[tuple[str, ...], ...]
    pointing: frozenset[str]


@functools.lru_cache(maxsize=1)
def _cues() -> _Cues:
    raw = data.read(ROLES_RESOURCE)
    keys = lambda name: tuple(sorted({phrase_key(str(p)) for p in raw[name]}))  # noqa: E731
    return _Cues(frozenset(str(w) for w in raw["asking"]), keys("background"), keys("focus"),
                 keys("superseded"), frozenset(str(w) for w in raw["pointing"]))


def is_focus(stems: tuple[str, ...]) -> bool:
    """Whether a clause (its stemmed words) says what is wanted or feared now."""
    return any(holds(stems, key) for key in _cues().focus)


def is_background(stems: tuple[str, ...]) -> bool:
    """Whether a clause (its stemmed words) tells the history (and not what is wanted now), or an earlier
    guess the story has moved past ('they thought at first it was his appendix')."""
    cues = _cues()
    return (any(holds(stems, key) for key in cues.superseded)
            or any(holds(stems, key) for key in cues.background) and not is_focus(stems))


POINTED_MIN_CHARS = 4  # 'that fluid', 'this pouch': the thing pointed at is a word of some length
FUNCTION_WORDS = frozenset({"the", "this", "that", "they", "them", "there", "then", "than", "what", "which", "when",
                            "where", "with", "will", "would", "were", "have", "been", "into", "from", "your"})


def pointed_at(stems: tuple[str, ...]) -> set[str]:
    """What a clause points back at: the word after 'that', 'this' ... ('can you segment that fluid' -> fluid)."""
    pointing = _cues().pointing
    return {stems[i + 1] for i in range(len(stems) - 1) if stems[i] in pointing and stems[i + 1].isalpha()
            and len(stems[i + 1]) >= POINTED_MIN_CHARS and stems[i + 1] not in FUNCTION_WORDS}


def points_back(stems: tuple[str, ...]) -> bool:
    """Whether a clause ends on a word that points back ('can you highlight them', 'I want to see that')."""
    words = [word for word in stems if word.isalnum()]
    return bool(words) and words[-1] in _cues().pointing


def _referred(clauses: list[tuple[str, ...]], focus: list[bool]) -> list[bool]:
    """``focus`` with the clauses a focus clause or the last one points back at: those naming the thing
    pointed at ('... fluid building up ... Can you segment that fluid?'), or the one before it ('... the vessels
    that supply the heart muscle. Can you highlight them?')."""
    asking = [i for i, said_now in enumerate(focus) if said_now] + [len(clauses) - 1]
    pointed = {word for i in asking for word in pointed_at(clauses[i])}
    before = {i - 1 for i in asking if i > 0 and points_back(clauses[i])}
    return [said_now or i in before or bool(pointed & set(stems))
            for i, (stems, said_now) in enumerate(zip(clauses, focus))]


def clause_factors(clauses: list[tuple[str, ...]], long: bool) -> list[float]:
    """How much each clause (its stemmed words) weighs: background clauses less; in a long question
    with a focus clause, the clauses that are neither focus nor background less too. A clause a focus clause
    points back at is a focus as well (`_referred`)."""
    focus = [is_focus(stems) for stems in clauses]
    if long and clauses:
        focus = _referred(clauses, focus)
    aside = long and any(focus) and not all(focus)
    return [BACKGROUND_FACTOR if is_background(stems) else ASIDE_FACTOR if aside and not said_now else 1.0
            for stems, said_now in zip(clauses, focus)]


@dataclass(frozen=True)
class ClauseRoles:
    """Per token of a parsed question: how much its clause weighs (`clause_factors`), whether it asks."""

    weight: tuple[float, ...]
    asking: tuple[bool, ...]

    @classmethod
    def of(cls, parsed: Parsed, long: bool = False) -> "ClauseRoles":
        asking_words = _cues().asking
        spans = []
        i = 0
        while i < len(parsed.raw):
            start, end = parsed.clause_of(i)
            spans.append((start, end))
            i = end + 1
        factors = clause_factors([parsed.stems[start:end] for start, end in spans], long)
        weight, asking = [1.0] * len(parsed.raw), [False] * len(parsed.raw)
        for (start, end), factor in zip(spans, factors):
            asks = any(word in asking_words for word in parsed.raw[start:end])
            for j in range(start, end):
                weight[j], asking[j] = factor, asks
        return cls(tuple(weight), tuple(asking))

    def asks_for_kind(self, index: int, long: bool) -> bool:
        """A kind word at ``index`` says what is asked for: always in a short question; in a long one only
        in its opening words or in a clause that asks."""
        return not long or index < OPENING_WORDS or self.asking[index]
