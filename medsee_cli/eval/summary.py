"""Dataset-level numbers from per-item rows: gIoU, cIoU, Dice (both empty rules), boxes,
surface metrics and presence detection, overall and per target.

- gIoU: mean of per-item IoU (both-empty items count 1.0, LISA/MediSee).
- cIoU: sum of intersections / sum of unions over all items (voxels of 3D items count too).
- dice: mean per-item Dice, LISA rule; dice_nnunet: mean skipping both-empty items.
- dice_volume / dice_slices: for 3D items, the per-volume Dice and the mean per-slice Dice.
- box_iou / box_acc50: over items whose target has a box; Acc@0.5 counts IoU > 0.5 strictly.
- hd95 / nsd: means over items where they are defined (see `metrics.surface`).
- presence: per slice and per case (case = one patient x one target), see `metrics.presence`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from medsee_cli.eval.metrics import PresenceCounts


def _mean(values: Iterable[float]) -> float:
    kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return float(np.mean(kept)) if kept else float("nan")


def _median(values: Iterable[float]) -> float:
    kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return float(np.median(kept)) if kept else float("nan")


def summarise(rows: Sequence[dict[str, Any]], slice_counts: PresenceCounts | None = None) -> dict[str, Any]:
    """Numbers for one group of scored rows (failed rows, with an ``error``, are left out)."""
    rows = [r for r in rows if not r.get("error")]
    union = sum(int(r["union"]) for r in rows)
    boxed = [r for r in rows if r["box_hit"] is not None]
    volumes = [r for r in rows if r["ndim"] == 3]
    by_case: dict[tuple[str, str], list[bool]] = defaultdict(lambda: [False, False])
    for r in rows:
        entry = by_case[(r["case_id"], r["target"])]
        entry[0] = entry[0] or bool(r["predicted_present"])
        entry[1] = entry[1] or bool(r["target_present"])
    case_counts = PresenceCounts.of([v[0] for v in by_case.values()], [v[1] for v in by_case.values()])
    if slice_counts is None:
        slice_counts = PresenceCounts.of([r["predicted_present"] for r in rows], [r["target_present"] for r in rows])
    return {
        "n": len(rows),
        "n_2d": len(rows) - len(volumes),
        "n_3d": len(volumes),
        "giou": _mean(r["iou"] for r in rows),
        "ciou": (sum(int(r["intersection"]) for r in rows) / union) if union else float("nan"),
        "dice": _mean(r["dice"] for r in rows),
        "dice_nnunet": _mean(r["dice_nnunet"] for r in rows),
        "dice_volume": _mean(r["dice"] for r in volumes),
        "dice_volume_nnunet": _mean(r["dice_nnunet"] for r in volumes),
        "dice_slices": _mean(r["dice_slices"] for r in volumes),
        "dice_slices_nnunet": _mean(r["dice_slices_nnunet"] for r in volumes),
        "n_boxes": len(boxed),
        "box_iou": _mean(r["box_iou"] for r in boxed),
        "box_acc50": (sum(bool(r["box_hit"]) for r in boxed) / len(boxed)) if boxed else float("nan"),
        "hd95": _mean(r["hd95"] for r in rows),
        "hd95_median": _median(r["hd95"] for r in rows),
        "hd95_undefined": sum(bool(r["hd95_undefined"]) for r in rows),
        "nsd": _mean(r["nsd"] for r in rows),
        "presence_slice": slice_counts.to_dict(),
        "presence_case": case_counts.to_dict(),
        "missing_predictions": sum(bool(r["missing"]) for r in rows),
    }


def summarise_by_target(rows: Sequence[dict[str, Any]], slices: dict[str, PresenceCounts]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["target"]].append(r)
    return {name: summarise(group, slices.get(name)) for name, group in sorted(groups.items())}
