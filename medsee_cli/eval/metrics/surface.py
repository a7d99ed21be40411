"""Surface metrics with physical spacing: HD95 and normalised surface Dice (NSD).

Both come from DeepMind's ``surface-distance`` package (Nikolov et al. 2021), which measures
surface elements by their length/area in millimetres:

- HD95 = max(95th percentile of distances target->prediction surface,
  95th percentile of prediction->target), each percentile weighted by surfel area.
- NSD at tolerance tau = (area of target surface within tau of the prediction surface +
  area of prediction surface within tau of the target surface) / (total area of both).

Empty rules (decided here, before the library is called, because ``surface-distance`` 0.1
uses ``np.Inf``, removed in numpy 2, on exactly those paths): both masks empty -> HD95 and NSD
are NaN (not counted; the overlap metrics already credit a correct "nothing there"); exactly one
empty -> HD95 NaN (undefined, counted separately as ``hd95_undefined``) and NSD 0.0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_TOLERANCE_MM = 2.0
PERCENTILE = 95


@dataclass(frozen=True)
class SurfaceScores:
    hd95: float
    nsd: float

    @property
    def hd95_undefined(self) -> bool:
        """True when exactly one of the two masks is empty (distance to nothing)."""
        return math.isnan(self.hd95) and self.nsd == 0.0


def surface_scores(
    pred: np.ndarray,
    target: np.ndarray,
    spacing: Sequence[float],
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
) -> SurfaceScores:
    """HD95 (mm) and NSD at ``tolerance_mm`` of two masks on a grid with ``spacing`` (mm per axis)."""
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    if len(spacing) != pred.ndim or pred.ndim not in (2, 3):
        raise ValueError(f"need 2D or 3D masks with one spacing per axis, got {pred.ndim}D and {len(spacing)}")
    has_pred, has_target = bool(pred.any()), bool(target.any())
    if not has_pred and not has_target:
        return SurfaceScores(hd95=float("nan"), nsd=float("nan"))
    if not has_pred or not has_target:
        return SurfaceScores(hd95=float("nan"), nsd=0.0)
    import surface_distance

    with warnings.catch_warnings():
        # surface-distance 0.1 reaches scipy.ndimage through deprecated sub-namespaces.
        warnings.simplefilter("ignore", DeprecationWarning)
        distances = surface_distance.compute_surface_distances(target, pred, [float(s) for s in spacing])
    hd95 = float(surface_distance.compute_robust_hausdorff(distances, PERCENTILE))
    nsd = float(surface_distance.compute_surface_dice_at_tolerance(distances, float(tolerance_mm)))
    return SurfaceScores(hd95=hd95, nsd=nsd)
