"""Segmentation, detection and surface metrics with their empty-mask rules stated in one place.

Every function takes boolean numpy arrays (2D ``[row, col]`` or 3D ``[i, j, k]``) and returns
plain floats; aggregation over a dataset lives in `medsee_cli.eval.summary`.
"""

from medsee_cli.eval.metrics.boxes import BOX_HIT_THRESHOLD, box_from_mask, box_hit, box_iou
from medsee_cli.eval.metrics.overlap import Overlap, dice, iou, overlap, slice_dice
from medsee_cli.eval.metrics.presence import PresenceCounts
from medsee_cli.eval.metrics.surface import SurfaceScores, surface_scores

__all__ = [
    "BOX_HIT_THRESHOLD",
    "Overlap",
    "PresenceCounts",
    "SurfaceScores",
    "box_from_mask",
    "box_hit",
    "box_iou",
    "dice",
    "iou",
    "overlap",
    "slice_dice",
    "surface_scores",
]
