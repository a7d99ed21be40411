"""The patient's trunk on each axial slice of a CT in Hounsfield units, and its midline.

The body is everything above -500 HU with its holes filled (lungs and bowel gas included). On
each axial slice it is opened by about a centimetre, so an arm that only touches the trunk comes
apart from it, and the largest piece is the trunk; a piece at least half its size is kept too
(the two thighs below the pelvis). Arms, the scanner table, clothing and blankets fall away. A
slice whose trunk reaches the edge of the image (a field of view cropped inside the patient) cannot
say where the trunk ends: there the whole slice counts as trunk, and nothing is dropped. Work
happens on `levels.axial`'s coarse grid (about 4 mm in plane), so a full-size CT costs well under
a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsee_cli.anatomy.axial import Axial

BODY_HU = -500.0
OPENING_CELLS = 2  # ~8 mm on the 4 mm grid: parts joined by less than this come apart
KEEP_FRACTION = 0.5  # a second piece at least this share of the largest is trunk too (the thighs)


@dataclass(frozen=True)
class Trunk:
    """``mask``: (a, b, z) bool on the axial view's grid; ``centre``: per axial slice, the trunk's
    centre (a, b) on that grid (NaN where a slice shows no body)."""

    mask: np.ndarray
    centre: np.ndarray  # (Z, 2) float

    def holds(self, cells: np.ndarray) -> np.ndarray:
        """(N,) bool: which (a, b, z) cells of the axial grid lie inside the trunk."""
        return np.asarray(self.mask[cells[:, 0], cells[:, 1], cells[:, 2]], dtype=bool)


def _touches_edge(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def slice_trunk(body: np.ndarray) -> np.ndarray:
    """The trunk on one axial slice, from its filled body mask (the whole slice when cropped)."""
    from scipy import ndimage

    opened = ndimage.binary_opening(body, iterations=OPENING_CELLS) if body.any() else body
    pieces, count = ndimage.label(opened)
    if count == 0:
        return np.zeros_like(body)
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)[1:]
    keep = np.zeros(count + 1, dtype=bool)
    keep[1:] = sizes >= KEEP_FRACTION * sizes.max()
    trunk = keep[pieces]
    if _touches_edge(trunk):
        return np.ones_like(body)
    # grow back what the opening shaved off, never beyond the body
    return np.asarray(ndimage.binary_dilation(trunk, iterations=OPENING_CELLS + 1) & body, dtype=bool)


def trunk(view: Axial) -> Trunk:
    """The trunk of a CT in HU seen through its `levels.axial` view."""
    from scipy import ndimage

    depth = view.data.shape[2]
    mask = np.zeros(view.data.shape, dtype=bool)
    centre = np.full((depth, 2), np.nan)
    for z in range(depth):
        body = ndimage.binary_fill_holes(view.data[..., z] > BODY_HU)
        mask[..., z] = slice_trunk(np.asarray(body, dtype=bool))
        where = np.argwhere(mask[..., z])
        if len(where):
            centre[z] = where.mean(axis=0)
    return Trunk(mask, centre)
