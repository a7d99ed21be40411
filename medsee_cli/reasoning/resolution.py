"""What a reasoning step returns: ranked target hypotheses, or an honest abstention.

The order of hypotheses is one stated rule (`ranked`): the higher score first, compared as it
is reported (capped at 1 and rounded to `SCORE_DIGITS` decimals, the ``score`` of ``--json``);
equal scores in the alphabetical order of their names. A tie thus never depends on the order in
which evidence happened to be found, and anyone can check it from the output alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

SCORE_DIGITS = 4


def reported_score(score: float) -> float:
    """A hypothesis score as it is reported and ranked: capped at 1, rounded to `SCORE_DIGITS` decimals."""
    return round(min(score, 1.0), SCORE_DIGITS)


def ranked(scores: dict[str, float]) -> list[tuple[str, float]]:
    """(name, score) best first: higher `reported_score` first, equal ones by name (A to Z)."""
    return sorted(scores.items(), key=lambda item: (-reported_score(item[1]), item[0]))


@dataclass(frozen=True)
class Hypothesis:
    """One candidate target: canonical name, SNOMED CT code, score in [0, 1] and why."""

    name: str
    code: str
    score: float
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "score": round(self.score, 4), "rationale": self.rationale}


@dataclass(frozen=True)
class Resolution:
    """The outcome for one question. ``abstained`` means: no target, and ``answer`` says why."""

    question: str
    hypotheses: tuple[Hypothesis, ...]
    abstained: bool
    answer: str
    excluded: tuple[str, ...] = field(default=())
    backend: str = "lexical"
    # hypotheses the question names itself ("where is the liver?"), best first; empty when the
    # question only points at them (a symptom, a function, a cause) or the backend cannot tell
    named: tuple[str, ...] = field(default=())

    @property
    def top(self) -> str:
        return self.hypotheses[0].name if self.hypotheses else ""

    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hypotheses)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "targets": [h.to_dict() for h in self.hypotheses],
            "excluded": list(self.excluded),
            "backend": self.backend,
        }


class Reasoner(Protocol):
    """Anything that turns a question (and optionally the scan in view, a ``scan.ScanContext``) into a Resolution."""

    def resolve(self, question: str, scan: Any = None) -> Resolution: ...
