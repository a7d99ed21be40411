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
from importlib import resources

import yaml

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


@functools.lru_cache(maxsize=1)
def _cues() -> _Cues:
    text = resources.files("medsee_cli.reasoning").joinpath("data").joinpath(ROLES_RESOURCE).read_text("utf-8")
    raw = yaml.safe_load(text)
    keys = lambda name: tuple(sorted({phrase_key(str(p)) for p in raw[name]}))  # noqa: E731
    return _Cues(frozenset(str(w) for w in raw["asking"]), keys("background"), keys("focus"),
                 keys("superseded"))


def is_focus(stems: tuple[str, ...]) -> bool:
    """Whether a clause (its stemmed words) says what is wanted or feared now."""
    return any(holds(stems, key) for key in _cues().focus)


def is_background(stems: tuple[str, ...]) -> bool:
    """Whether a clause (its stemmed words) tells the history (and not what is wanted now), or an earlier
    guess the story has moved past ('they thought at first it was his appendix')."""
    cues = _cues()
    return (any(holds(stems, key) for key in cues.superseded)
            or any(holds(stems, key) for key in cues.background) and not is_focus(stems))


def clause_factors(clauses: list[tuple[str, ...]], long: bool) -> list[float]:
    """How much each clause (its stemmed words) weighs: background clauses less; in a long question
    with a focus clause, the clauses that are neither focus nor background less too."""
    focus = [is_focus(stems) for stems in clauses]
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
