"""Detection of absence: is the target there at all, per slice and per case?

A slice (2D item, or one k-slice of a 3D item) is "target present" when its target mask has a
foreground pixel, and "predicted present" when the prediction has one. A case groups every item
of one patient and one target; it is present when any of its slices is. Precision is
``TP / (TP + FP)`` and recall ``TP / (TP + FN)``; either is NaN when its denominator is 0.
Specificity ``TN / (TN + FP)`` says how often a model correctly answers "not there".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


@dataclass(frozen=True)
class PresenceCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, predicted: npt.ArrayLike, present: npt.ArrayLike) -> PresenceCounts:
        """Counts from paired boolean vectors (one entry per slice or case)."""
        p = np.asarray(predicted, dtype=bool)
        t = np.asarray(present, dtype=bool)
        return cls(
            tp=int(np.count_nonzero(p & t)),
            fp=int(np.count_nonzero(p & ~t)),
            fn=int(np.count_nonzero(~p & t)),
            tn=int(np.count_nonzero(~p & ~t)),
        )

    def __add__(self, other: PresenceCounts) -> PresenceCounts:
        return PresenceCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return _ratio(self.tn, self.tn + self.fp)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
            "specificity": self.specificity,
        }
