"""Long questions read clause by clause.

A relative's long message ('my husband is sixty two, sorry for the long message, he gets a burning pain
behind his breastbone after meals, ... what will the scan look at') has one or two clauses that carry
the complaint among several that do not. One sentence vector of the whole is an average that the
chatter dilutes. Here the question is cut into clauses at punctuation and contrast words; each clause
gets a vector pooled from its own tokens in the same encoder pass (`encode_parts`, no extra cost); a
target's meaning score is the mean of its clause scores, each clause weighted by how much closer it
is to some target than to the out-of-scope examples, so chatter and requests weigh little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from medsee_cli.reasoning.semantic import SemanticIndex

_CUT = re.compile(r"[,;.?!]|\b(?:but|however|although|though)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+")
MIN_CLAUSE_WORDS = 2  # shorter pieces ('ok', 'so') are no clause of their own
WEIGHT_FLOOR = 1e-3  # a clause no closer to a target than to chatter still counts a little


@dataclass(frozen=True)
class ClauseOptions:
    """A question is read clause by clause when it has at least ``min_words`` words and ``min_clauses``
    clauses."""

    min_words: int = 20
    min_clauses: int = 3


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the clauses of ``text`` that have at least MIN_CLAUSE_WORDS words."""
    spans, at = [], 0
    for cut in _CUT.finditer(text):
        spans.append((at, cut.start()))
        at = cut.end()
    spans.append((at, len(text)))
    return [(a, b) for a, b in spans if len(_WORD.findall(text[a:b])) >= MIN_CLAUSE_WORDS]


def is_long(text: str, options: ClauseOptions) -> bool:
    return len(_WORD.findall(text)) >= options.min_words and len(clause_spans(text)) >= options.min_clauses


def pooled_scores(index: SemanticIndex, whole: np.ndarray, parts: np.ndarray, factors: np.ndarray
                  ) -> tuple[dict[str, float], float]:
    """(target -> clause-pooled similarity, the whole question's similarity to the out-of-scope examples).
    ``factors`` scale each clause's weight (a clause telling the history weighs less).

    The pooled scores order the targets; they are scaled so that the best equals the whole question's
    best similarity, the level the resolver's thresholds (abstention, out of scope) are set for."""
    names, whole_sims, reject = index.score_rows(whole[None])
    kept = np.linalg.norm(parts, axis=1) > 0
    if not kept.any():
        return dict(zip(names, whole_sims[0].tolist())), float(reject[0])
    _, sims, rejects = index.score_rows(parts[kept])
    weights = (np.maximum(sims.max(axis=1) - rejects, 0.0) + WEIGHT_FLOOR) * np.asarray(factors)[kept]
    pooled = (weights[:, None] * sims).sum(axis=0) / weights.sum()
    pooled *= whole_sims.max() / max(float(pooled.max()), 1e-6)
    return dict(zip(names, pooled.tolist())), float(reject[0])
