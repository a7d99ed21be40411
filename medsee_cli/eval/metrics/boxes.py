"""Box metrics: IoU of axis-aligned boxes and MediSee's Acc@0.5.

Boxes are continuous pixel-edge coordinates: 2D ``(x0, y0, x1, y1)`` with x along columns,
3D ``(i0, j0, k0, i1, j1, k1)``; a mask's box runs from its first foreground pixel's low edge
to its last one's high edge (``max index + 1``), so a one-pixel mask has a box of area 1.
MediSee stores boxes normalised by the image size (``x/W``, ``y/H``); IoU is unchanged by a
per-axis scale, so normalised and pixel boxes give the same IoU once both are in one frame.

- ``box IoU = area(A & B) / area(A | B)``; 0.0 when either box has zero area and they do not
  coincide.
- Acc@0.5 counts a prediction as a hit when ``IoU > 0.5`` **strictly**, as MediSee's
  evaluation code does (an IoU of exactly 0.5 is a miss).
- Empty rule: items whose target has no box are left out of box metrics; a missing predicted
  box on a present target scores IoU 0.0 (a miss).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOX_HIT_THRESHOLD = 0.5

Box = tuple[float, ...]


def box_from_mask(mask: np.ndarray) -> Box | None:
    """The tight pixel-edge box of a 2D ``[row, col]`` or 3D ``[i, j, k]`` mask; None if empty.

    2D boxes are returned as ``(x0, y0, x1, y1)`` (x = column), 3D as ``(i0, j0, k0, i1, j1, k1)``.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return None
    lows, highs = [], []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=other))
        lows.append(float(hits[0]))
        highs.append(float(hits[-1] + 1))
    if mask.ndim == 2:  # (row, col) -> (x0, y0, x1, y1)
        return (lows[1], lows[0], highs[1], highs[0])
    return tuple(lows + highs)


def box_iou(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    """IoU of two boxes of the same dimension (``(lo..., hi...)``); 0.0 if either is None."""
    if a is None or b is None:
        return 0.0
    if len(a) != len(b) or len(a) % 2:
        raise ValueError(f"boxes of different or odd length: {len(a)} and {len(b)}")
    n = len(a) // 2
    lo_a, hi_a = np.asarray(a[:n], float), np.asarray(a[n:], float)
    lo_b, hi_b = np.asarray(b[:n], float), np.asarray(b[n:], float)
    inter = float(np.prod(np.clip(np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b), 0.0, None)))
    vol_a = float(np.prod(np.clip(hi_a - lo_a, 0.0, None)))
    vol_b = float(np.prod(np.clip(hi_b - lo_b, 0.0, None)))
    union = vol_a + vol_b - inter
    return inter / union if union > 0 else 0.0


def box_hit(value: float) -> bool:
    """MediSee's Acc@0.5 criterion: IoU strictly greater than 0.5."""
    return value > BOX_HIT_THRESHOLD
