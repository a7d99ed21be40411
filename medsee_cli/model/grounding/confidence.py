"""The confidence printed with a finding: how often findings with its model score were right on real CT.

A finding's model score is the mean presence probability over its slices. It is not a chance of being
right: on real CT the model never saw, findings it scored 0.95 or more were right (3D Dice >= 0.5) 13
times in 23, and findings of targets that were not in the scan at all scored 0.71-0.87 (`bench/reliability.py`).
`ConfidenceMap` is Platt scaling (a logistic curve over the score's logit) fitted to such findings:
it turns the score into the share of findings like it that were right, and it records how many
findings it was fitted on and what they were, so the answer can say where the number comes from.
It is kept in the model's ``config.json`` (``confidence_map``), and applies to CT in Hounsfield units
only: that is what it was measured on.

Findings the anatomy guard doubts (`anatomy.guard.concerns`: air where an organ should be solid, a
volume far outside the usual range, the wrong side or level) are counted apart: the curve is fitted
on the findings it did not doubt, and a doubted finding gets the share of doubted findings that were
right, by the rule of succession (right + 1) / (doubted + 2), so that "none of 7" reads as about 11%,
not as never.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Optional, Sequence

import numpy as np

EDGE = 1e-4  # scores are clipped to [EDGE, 1 - EDGE] before their logit


def logit(score: float) -> float:
    p = min(max(float(score), EDGE), 1.0 - EDGE)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class ConfidenceMap:
    slope: float
    intercept: float
    findings: int  # how many findings it was fitted on
    right: int  # how many of them were right
    measured_on: str  # what those findings were, in words
    doubted: int = 0  # findings the anatomy guard doubted, measured apart (not in ``findings``)
    doubted_right: int = 0  # how many of those were right

    def __call__(self, score: float) -> float:
        """The share of findings with this model score that were right."""
        return 1.0 / (1.0 + math.exp(-(self.slope * logit(score) + self.intercept)))

    def of(self, score: float, doubted: bool = False) -> Optional[float]:
        """The confidence of a finding: the curve at its score, or for one the anatomy guard doubts,
        `doubted_share` (``None`` when no doubted finding was measured)."""
        return self.doubted_share() if doubted else self(score)

    def doubted_share(self) -> Optional[float]:
        """The share of guard-doubted findings that were right (rule of succession); ``None`` when
        no doubted finding was measured."""
        if self.doubted <= 0:
            return None
        return (self.doubted_right + 1.0) / (self.doubted + 2.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Optional[ConfidenceMap]:
        """The map a config holds; ``None`` for an empty one (a model nobody measured)."""
        if not data:
            return None
        return cls(slope=float(data["slope"]), intercept=float(data["intercept"]), findings=int(data["findings"]),
                   right=int(data["right"]), measured_on=str(data["measured_on"]),
                   doubted=int(data.get("doubted", 0)), doubted_right=int(data.get("doubted_right", 0)))


def fit(scores: Sequence[float], right: Sequence[bool], measured_on: str, ridge: float = 1e-2,
        doubted: Sequence[bool] = ()) -> ConfidenceMap:
    """Platt scaling: the logistic curve over ``logit(score)`` that best predicts ``right`` (maximum
    likelihood by Newton's method, with a small ``ridge`` so that data one value separates stay finite).
    Findings flagged in ``doubted`` (the anatomy guard doubted them) are counted apart, not fitted."""
    if doubted:
        apart = [bool(d) for d in doubted]
        fitted = fit([s for s, d in zip(scores, apart) if not d], [r for r, d in zip(right, apart) if not d],
                     measured_on, ridge)
        return replace(fitted, doubted=sum(apart), doubted_right=sum(bool(r) for r, d in zip(right, apart) if d))
    x = np.array([logit(s) for s in scores], dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no findings to fit a confidence map on")
    design = np.stack([x, np.ones_like(x)], axis=1)
    weights = np.zeros(2)
    penalty = ridge * np.eye(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (p - y) + penalty @ weights
        hessian = design.T @ (design * (p * (1.0 - p))[:, None]) + penalty + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return ConfidenceMap(slope=float(weights[0]), intercept=float(weights[1]), findings=int(x.size),
                         right=int(y.sum()), measured_on=measured_on)
