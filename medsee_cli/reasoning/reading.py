"""How the sentence encoder reads a question: one vector of the whole; for a long question, its clauses
pooled (`clauses`); for a question that names landmarks, a second reading with them masked
(`landmarks.masked`), so the thing described counts as well as the landmark named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from medsee_cli.reasoning.clause_roles import clause_factors
from medsee_cli.reasoning.clauses import clause_spans, pooled_scores
from medsee_cli.reasoning.semantic import SemanticIndex
from medsee_cli.reasoning.text import phrase_key


@dataclass(frozen=True)
class Reading:
    """What to read: ``plain``, the question with shorthand written out; ``long``, read it clause by
    clause; ``masked_view``, the question with its landmarks masked ('' for none) and ``masked_share``,
    the weight of that second reading."""

    plain: str
    long: bool = False
    masked_view: str = ""
    masked_share: float = 0.3


@dataclass(frozen=True)
class Vectors:
    """The question's vectors as read: the whole, the one with landmarks masked (None without), and for a long
    question its clauses and their weights (`clause_roles.clause_factors`); for the re-ranker's features."""

    whole: np.ndarray
    masked: Any = None
    parts: Any = None
    factors: Any = None


def similarities(index: SemanticIndex, encoder: Any, reading: Reading) -> tuple[dict[str, float], float]:
    """(similarity per target, similarity to the out-of-scope examples) for one question."""
    scores, reject, _ = read(index, encoder, reading)
    return scores, reject


def read(index: SemanticIndex, encoder: Any, reading: Reading) -> tuple[dict[str, float], float, Vectors]:
    """`similarities`, and the vectors they came from."""
    if reading.long:
        spans = clause_spans(reading.plain)
        factors = np.array(clause_factors([phrase_key(reading.plain[a:b]) for a, b in spans], long=True))
        whole, parts = encoder.encode_parts(reading.plain, spans)
        scores, reject = pooled_scores(index, whole, parts, factors)
        return scores, reject, Vectors(whole, parts=parts, factors=factors)
    if not reading.masked_view:
        vector = encoder.encode([reading.plain])[0]
        scores, reject = index.scores(vector)
        return scores, reject, Vectors(vector)
    whole, described = encoder.encode([reading.plain, reading.masked_view])
    scores, reject = index.scores(whole)
    other, _ = index.scores(described)
    share = reading.masked_share
    blended = {name: (1 - share) * score + share * other[name] for name, score in scores.items()}
    return blended, reject, Vectors(whole, masked=described)
