"""The in-plane orientation the grounding model was trained in: radiological display.

Rows run from the patient's anterior to posterior, columns from the patient's right to left
(the patient's right on the viewer's left). The engine and the training set builder turn each
axial slice ``array[:, :, k]`` into that view with `PlaneView.to_display` and map masks back
with `PlaneView.from_display`; left/right targets (``kidney_left``) depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlaneView:
    """How (..., I, J) in-plane array axes become (..., rows, cols) display axes."""

    transpose: bool  # rows come from array axis j (else from axis i)
    flip_rows: bool
    flip_cols: bool

    def to_display(self, plane: np.ndarray) -> np.ndarray:
        out = np.swapaxes(plane, -1, -2) if self.transpose else plane
        if self.flip_rows:
            out = np.flip(out, axis=-2)
        if self.flip_cols:
            out = np.flip(out, axis=-1)
        return out

    def from_display(self, display: np.ndarray) -> np.ndarray:
        out = display
        if self.flip_cols:
            out = np.flip(out, axis=-1)
        if self.flip_rows:
            out = np.flip(out, axis=-2)
        return np.swapaxes(out, -1, -2) if self.transpose else out


def plane_view(affine: np.ndarray) -> PlaneView:
    """The view for axial slices of a volume with this voxel -> RAS+ affine."""
    directions = np.asarray(affine, dtype=np.float64)[:3, :3]
    axis_i, axis_j = directions[:, 0], directions[:, 1]
    # The array axis closest to the left-right (x) axis becomes the columns.
    transpose = abs(axis_i[0]) >= abs(axis_j[0])
    col_axis, row_axis = (axis_i, axis_j) if transpose else (axis_j, axis_i)
    # RAS+: +x is the patient's right, +y anterior. Columns should go right -> left (x falling),
    # rows anterior -> posterior (y falling).
    return PlaneView(transpose=bool(transpose), flip_rows=bool(row_axis[1] > 0), flip_cols=bool(col_axis[0] > 0))
