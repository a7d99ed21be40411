"""The radiological view of a volume's slices: the one rule for every picture and model input.

A slice ``array[:, :, k]`` (in-plane axes i, j) is shown with the patient's right on the
viewer's left and anterior at the top; a plane without an anterior-posterior axis (coronal,
sagittal) has superior at the top, and a sagittal plane anterior on the left. The rule, on the
RAS+ affine (+x right, +y anterior, +z superior):

- the columns come from the in-plane axis with the larger left-right (x) component (i on a tie);
- each display axis runs towards the patient's left, posterior or inferior along the world axis
  it follows most (its largest direction component): the axis is flipped when that component
  is positive.

The grounding model was trained on this view (`training/slices.py`) and the engine feeds it
(`engine/prefetch.py`); the preview (`writers/preview.py`) and eval's overlays show it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORLD_AXES = "RAS"  # what lies at the image's left edge (or top) when an axis runs towards L, P or I


@dataclass(frozen=True)
class PlaneView:
    """How (..., I, J) in-plane array axes become (..., rows, cols) display axes.

    ``pixel_mm``: (row height, column width) in millimetres; ``left_edge``: the patient direction
    at the image's left edge (R for an axial or coronal slice, A for a sagittal one)."""

    transpose: bool  # rows come from array axis j (else from axis i)
    flip_rows: bool
    flip_cols: bool
    pixel_mm: tuple[float, float] = (1.0, 1.0)
    left_edge: str = "R"

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


# (row, col, 0) -> RAS+ of a picture shown radiologically: rows run towards posterior (-y),
# columns towards the patient's left (-x)
DISPLAY_AFFINE = np.array([[0.0, -1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def display_affine(spacing: tuple[float, ...]) -> np.ndarray:
    """`DISPLAY_AFFINE` with a picture's pixel size (row height, column width)."""
    return DISPLAY_AFFINE @ np.diag([float(spacing[0]), float(spacing[1]), 1.0, 1.0])


def plane_view(affine: np.ndarray) -> PlaneView:
    """The radiological view of the slices ``[:, :, k]`` of a volume with this voxel -> RAS+ affine."""
    directions = np.asarray(affine, dtype=np.float64)[:3, :3]
    axis_i, axis_j = directions[:, 0], directions[:, 1]
    transpose = abs(axis_i[0]) >= abs(axis_j[0])
    col_axis, row_axis = (axis_i, axis_j) if transpose else (axis_j, axis_i)
    col_world, row_world = int(np.argmax(np.abs(col_axis))), int(np.argmax(np.abs(row_axis)))
    return PlaneView(transpose=bool(transpose), flip_rows=bool(row_axis[row_world] > 0),
                     flip_cols=bool(col_axis[col_world] > 0),
                     pixel_mm=(float(np.linalg.norm(row_axis)), float(np.linalg.norm(col_axis))),
                     left_edge=WORLD_AXES[col_world])
