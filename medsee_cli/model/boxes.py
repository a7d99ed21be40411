"""Boxes from masks: one box per connected piece of a 2D mask, optionally enlarged.

Boxes are (x0, y0, x1, y1) in pixel indices of a (rows, cols) image: x is the column, y the row,
both ends inclusive. A box over several pieces leaks into the gap between them, so prompts are
made per piece; enlarging a tight box by ~10% avoids under-segmentation.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def pad_box(box: np.ndarray, fraction: float, shape: tuple[int, int], min_pad: float = 1.0) -> np.ndarray:
    """Grow each side by ``fraction / 2`` of the box's extent (at least ``min_pad``), clipped to the image."""
    x0, y0, x1, y1 = (float(v) for v in box)
    pad_x = max(min_pad, (x1 - x0 + 1) * fraction / 2)
    pad_y = max(min_pad, (y1 - y0 + 1) * fraction / 2)
    rows, cols = shape
    return np.array(
        [max(0.0, x0 - pad_x), max(0.0, y0 - pad_y), min(cols - 1.0, x1 + pad_x), min(rows - 1.0, y1 + pad_y)],
        dtype=np.float32,
    )


def boxes_from_mask(mask: np.ndarray, pad_fraction: float = 0.1, min_pixels: int = 1) -> np.ndarray:
    """(N, 4) float32 boxes, one per 8-connected piece with at least ``min_pixels`` pixels."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    boxes = []
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None or int((labels[found] == index).sum()) < min_pixels:
            continue
        rows, cols = found
        tight = np.array([cols.start, rows.start, cols.stop - 1, rows.stop - 1], dtype=np.float32)
        boxes.append(pad_box(tight, pad_fraction, mask.shape) if pad_fraction > 0 else tight)
    return np.stack(boxes) if boxes else np.zeros((0, 4), dtype=np.float32)
