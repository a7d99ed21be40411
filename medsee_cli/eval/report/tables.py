"""Per-item CSV and summary JSON (NaN and infinity become empty cells / null)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

COLUMNS = (
    "item_id", "case_id", "target", "text", "ndim", "predicted_target", "exposure", "orientation_known", "picture_turn",
    "missing", "error",
    "target_voxels", "predicted_voxels", "intersection", "union",
    "iou", "dice", "dice_nnunet", "dice_slices", "dice_slices_nnunet",
    "box_iou", "box_hit", "hd95", "nsd", "hd95_undefined", "spacing_known",
    "target_present", "predicted_present",
)


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: Any) -> str:
    return json.dumps(clean(data), indent=2, allow_nan=False) + "\n"


def _cell(value: Any) -> str:
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()
