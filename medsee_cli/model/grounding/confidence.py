"""The confidence printed with a finding: how often findings with its model score were right on real CT.

A finding's model score is the mean presence probability over its slices. It is not a chance of being
right: on real CT the model never saw, findings it scored 0.95 or more were right (3D Dice >= 0.5) 13
times in 23, and findings of targets that were not in the scan at all scored 0.71-0.87 (`bench/reliability.py`).
`ConfidenceMap` is Platt scaling (a logistic curve over the score's logit) fitted to such findings:
it turns the score into the share of findings like it that were right, and it records how many
findings it was fitted on and what they were, so the answer can say where the number comes from.
It is kept in the model's ``config.json`` (``confidence_map``), and applies to CT in Hounsfield units
only: that is what it was measured on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
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

    def __call__(self, score: float) -> float:
        """The share of findings with this model score that were right."""
        return 1.0 / (1.0 + math.exp(-(self.slope * logit(score) + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Optional[ConfidenceMap]:
        """The map a config holds; ``None`` for an empty one (a model nobody measured)."""
        if not data:
            return None
        return cls(slope=float(data["slope"]), intercept=float(data["intercept"]), findings=int(data["findings"]),
                   right=int(data["right"]), measured_on=str(data["measured_on"]))


def fit(scores: Sequence[float], right: Sequence[bool], measured_on: str, ridge: float = 1e-2) -> ConfidenceMap:
    """Platt scaling: the logistic curve over ``logit(score)`` that best predicts ``right`` (maximum
    likelihood by Newton's method, with a small ``ridge`` so that data one value separates stay finite)."""
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
