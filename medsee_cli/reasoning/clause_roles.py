"""What each clause of a question does: ask for something, or tell the history.

Cue words are data (``data/clause_roles.yaml``). A clause *asks* when it holds a question or request
word ('which', 'show'); a clause is *background* when it tells the past ('ten years ago', 'as a
baby', 'runs in the family'). The resolver weighs what background clauses name less, and in a long
question takes a kind word ('bone', 'tube') as asked for only in the opening words or in a clause that
asks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from medsee_cli.reasoning.text import Parsed, phrase_key

ROLES_RESOURCE = "clause_roles.yaml"
BACKGROUND_FACTOR = 0.5  # what a background clause names, and its meaning, weigh this much
OPENING_WORDS = 4  # a kind word this early is what the question is about ('the bone that ...')


@functools.lru_cache(maxsize=1)
def _cues() -> tuple[frozenset[str], tuple[tuple[str, ...], ...]]:
    text = resources.files("medsee_cli.reasoning").joinpath("data").joinpath(ROLES_RESOURCE).read_text("utf-8")
    raw = yaml.safe_load(text)
    asking = frozenset(str(w) for w in raw["asking"])
    background = tuple(sorted({phrase_key(str(p)) for p in raw["background"]}))
    return asking, background


def _has(stems: tuple[str, ...], key: tuple[str, ...]) -> bool:
    return any(stems[i:i + len(key)] == key for i in range(len(stems) - len(key) + 1))


def is_background(stems: tuple[str, ...]) -> bool:
    """Whether a clause (its stemmed words) tells the history."""
    return any(_has(stems, key) for key in _cues()[1])


@dataclass(frozen=True)
class ClauseRoles:
    """Per token of a parsed question: whether its clause is background, whether it asks."""

    background: tuple[bool, ...]
    asking: tuple[bool, ...]

    @classmethod
    def of(cls, parsed: Parsed) -> "ClauseRoles":
        asking_words = _cues()[0]
        background, asking = [False] * len(parsed.raw), [False] * len(parsed.raw)
        i = 0
        while i < len(parsed.raw):
            start, end = parsed.clause_of(i)
            told = is_background(parsed.stems[start:end])
            asks = any(word in asking_words for word in parsed.raw[start:end])
            for j in range(start, end):
                background[j], asking[j] = told, asks
            i = end + 1
        return cls(tuple(background), tuple(asking))

    def asks_for_kind(self, index: int, long: bool) -> bool:
        """A kind word at ``index`` says what is asked for: always in a short question; in a long one only
        in its opening words or in a clause that asks."""
        return not long or index < OPENING_WORDS or self.asking[index]
