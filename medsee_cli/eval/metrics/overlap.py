"""Overlap metrics: IoU and Dice of one image, and the counts that cIoU sums.

Formulas (P = predicted foreground, T = target foreground, |.| = number of pixels/voxels):

- ``IoU = |P & T| / |P | T|``. Empty rule (LISA, MediSee): when ``P`` and ``T`` are both
  empty the union is 0 and the image counts as IoU 1.0 ("no-object target" answered correctly).
- ``Dice = 2 |P & T| / (|P| + |T|)``. Two empty rules exist and both are reported:
  LISA/MediSee count both-empty as 1.0; nnU-Net (``evaluation/evaluate_predictions.py``) makes
  it NaN and skips it in the mean. With a non-empty prediction and an empty target, both rules
  give 0.0.
- gIoU over a dataset is the mean of per-image IoU; cIoU is ``sum |P & T| / sum |P | T|``
  (the counts from `overlap` summed over all images), so large targets weigh more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOTH_EMPTY_LISA = 1.0


@dataclass(frozen=True)
class Overlap:
    """Pixel counts of one prediction against one target."""

    intersection: int
    union: int
    predicted: int
    target: int

    @property
    def both_empty(self) -> bool:
        return self.union == 0

    @property
    def iou(self) -> float:
        return BOTH_EMPTY_LISA if self.union == 0 else self.intersection / self.union

    @property
    def dice(self) -> float:
        """Dice with the LISA rule (both empty = 1.0)."""
        total = self.predicted + self.target
        return BOTH_EMPTY_LISA if total == 0 else 2.0 * self.intersection / total

    @property
    def dice_nnunet(self) -> float:
        """Dice with nnU-Net's rule (both empty = NaN, skipped when averaging)."""
        total = self.predicted + self.target
        return float("nan") if total == 0 else 2.0 * self.intersection / total


def _check(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    return pred, target


def overlap(pred: np.ndarray, target: np.ndarray) -> Overlap:
    """Intersection, union and sizes of two masks of the same shape."""
    pred, target = _check(pred, target)
    inter = int(np.count_nonzero(pred & target))
    n_pred = int(np.count_nonzero(pred))
    n_target = int(np.count_nonzero(target))
    return Overlap(intersection=inter, union=n_pred + n_target - inter, predicted=n_pred, target=n_target)


def iou(pred: np.ndarray, target: np.ndarray) -> float:
    return overlap(pred, target).iou


def dice(pred: np.ndarray, target: np.ndarray) -> float:
    return overlap(pred, target).dice


def slice_dice(pred: np.ndarray, target: np.ndarray, axis: int = 2) -> tuple[float, float]:
    """Mean per-slice Dice of a 3D pair along ``axis``: (LISA rule, nnU-Net rule).

    The LISA mean counts slices where both masks are empty as 1.0; the nnU-Net mean skips them
    (NaN when every slice is empty in both).
    """
    pred, target = _check(pred, target)
    if pred.ndim != 3:
        raise ValueError("slice_dice needs 3D masks")
    other = tuple(a for a in range(3) if a != axis)
    inter = np.count_nonzero(pred & target, axis=other).astype(np.float64)
    total = (np.count_nonzero(pred, axis=other) + np.count_nonzero(target, axis=other)).astype(np.float64)
    defined = total > 0
    per_slice = np.where(defined, 2.0 * inter / np.where(defined, total, 1.0), BOTH_EMPTY_LISA)
    lisa = float(per_slice.mean()) if per_slice.size else float("nan")
    nnunet = float(per_slice[defined].mean()) if defined.any() else float("nan")
    return lisa, nnunet
