"""Scoring one item: every per-item metric in one flat row, plus what presence and overlays need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from medsee_cli.eval.items import EvalItem, Sample
from medsee_cli.eval.metrics import box_from_mask, box_hit, box_iou, overlap, slice_dice, surface_scores
from medsee_cli.eval.options import EvalOptions
from medsee_cli.eval.predictor import Prediction

NAN = float("nan")


@dataclass(frozen=True)
class View:
    """A 2D picture of one item for the worst-case overlays: ``[row, col]`` arrays."""

    image: np.ndarray
    target: np.ndarray
    predicted: np.ndarray
    window: tuple[float, float] | None


@dataclass(frozen=True)
class Scored:
    row: dict[str, Any]
    slice_predicted: np.ndarray  # per slice (one entry for a 2D item): prediction non-empty
    slice_present: np.ndarray  # per slice: target non-empty


def view_of(sample: Sample, predicted: np.ndarray) -> View:
    """The item as one 2D picture; for a volume, the slice with the most disagreement."""
    target = sample.target
    if target.ndim == 2:
        return View(sample.grey(), target, predicted, sample.window)
    wrong = np.count_nonzero(target ^ predicted, axis=(0, 1))
    k = int(np.argmax(wrong)) if wrong.any() else int(np.argmax(np.count_nonzero(target, axis=(0, 1))))
    # Show the slice as radiologists do (anterior up, patient right on the image's left).
    from medsee_cli.io.plane_view import plane_view

    show = plane_view(sample.affine if sample.affine is not None else np.eye(4)).to_display
    return View(np.ascontiguousarray(show(sample.image[:, :, k])), np.ascontiguousarray(show(target[:, :, k])),
                np.ascontiguousarray(show(predicted[:, :, k])), sample.window)


def score_item(item: EvalItem, sample: Sample, prediction: Prediction, options: EvalOptions) -> tuple[Scored, np.ndarray]:
    """The row of metrics for one item, and the boolean predicted mask that was scored."""
    target = sample.target
    predicted = prediction.mask if prediction.mask is not None else np.zeros_like(target, dtype=bool)
    counts = overlap(predicted, target)
    row: dict[str, Any] = {
        "item_id": item.item_id,
        "case_id": item.case_id,
        "target": item.target,
        "text": item.text,
        "ndim": item.ndim,
        "missing": prediction.missing,
        "predicted_target": prediction.target or "",
        "target_voxels": counts.target,
        "predicted_voxels": counts.predicted,
        "intersection": counts.intersection,
        "union": counts.union,
        "iou": counts.iou,
        "dice": counts.dice,
        "dice_nnunet": counts.dice_nnunet,
        "dice_slices": NAN,
        "dice_slices_nnunet": NAN,
    }
    if target.ndim == 3:
        row["dice_slices"], row["dice_slices_nnunet"] = slice_dice(predicted, target, axis=2)
    target_box = sample.box if sample.box is not None else box_from_mask(target)
    predicted_box = prediction.box if prediction.box is not None else box_from_mask(predicted)
    if target_box is None:
        row["box_iou"], row["box_hit"] = NAN, None
    else:
        row["box_iou"] = box_iou(predicted_box, target_box)
        row["box_hit"] = box_hit(row["box_iou"])
    if options.surface:
        surface = surface_scores(predicted, target, sample.spacing, options.nsd_tolerance_mm)
        row["hd95"], row["nsd"] = surface.hd95, surface.nsd
        row["hd95_undefined"] = surface.hd95_undefined
    else:
        row["hd95"], row["nsd"], row["hd95_undefined"] = NAN, NAN, False
    row["spacing_known"] = sample.spacing_known
    row["target_present"] = counts.target > 0
    row["predicted_present"] = counts.predicted > 0
    if target.ndim == 3:
        slice_pred = np.asarray(predicted.any(axis=(0, 1)))
        slice_true = np.asarray(target.any(axis=(0, 1)))
    else:
        slice_pred = np.array([counts.predicted > 0])
        slice_true = np.array([counts.target > 0])
    return Scored(row=row, slice_predicted=slice_pred, slice_present=slice_true), predicted
