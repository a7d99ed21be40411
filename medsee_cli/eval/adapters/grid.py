"""Putting a tool's per-case output onto one item's grid.

A 3D item takes the whole case array; a 2D item cut from its case (``EvalItem.cut = k``) takes
`plane_of` the case array at ``k``, the one rule by which 2D items are cut; a 2D output (a
MedSAM 2D npz, a PNG label map) is taken as it is. When both the output and the item know
their affines, an output whose voxel axes are ordered or flipped differently from the item's is
reoriented onto the item's grid first (a free view, no copy); any other difference (spacing,
origin, rotation: a resampled grid) is an error, as is any shape that does not fit. Nothing is
ever resampled: scores on a grid the tool chose are not the scores on the item's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.items import EvalItem, Sample, plane_affine, plane_of

GRID_TOLERANCE = 0.01  # grids coincide when every corner lies within 1 % of a voxel


@dataclass(frozen=True)
class CaseGrid:
    """One decoded case output: a label map ``[i, j, k]`` (or ``[row, col]`` when 2D)."""

    array: np.ndarray
    affine: np.ndarray | None = field(repr=False)  # voxel -> RAS+; None: the file has none (npz, PNG)
    path: Path


def _corners(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    ranges = [(0, n - 1) for n in shape[:3]]
    grid = np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1)
    return np.asarray(affine[:3, :3] @ grid + affine[:3, 3:4])


def same_grid(affine: np.ndarray, reference: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether two affines put every corner voxel of ``shape`` at the same place."""
    spacing = float(np.min(np.linalg.norm(np.asarray(reference)[:3, :3], axis=0)))
    gap = np.max(np.linalg.norm(_corners(affine, shape) - _corners(reference, shape), axis=0))
    return bool(gap <= GRID_TOLERANCE * spacing + 1e-6)


def oriented(array: np.ndarray, affine: np.ndarray | None, reference: np.ndarray | None, path: Path) -> np.ndarray:
    """``array`` (on ``affine``) as a view on the ``reference`` grid's axis order and directions."""
    if affine is None or reference is None or same_grid(affine, reference, array.shape):
        return array
    from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation, ornt_transform

    transform = ornt_transform(io_orientation(affine), io_orientation(reference))
    moved = np.asarray(apply_orientation(array, transform))
    moved_affine = np.asarray(affine) @ inv_ornt_aff(transform, array.shape)
    if not same_grid(moved_affine, reference, moved.shape):
        raise InputError(str(path), "the output's grid differs from the item's image by more than axis order and flips "
                                    "(spacing, origin or rotation): resample it onto the image first")
    return moved


def case_affine(sample: Sample, k: int) -> np.ndarray | None:
    """The affine of the case volume a 2D item was cut from at ``k`` (its own is the plane's)."""
    if sample.affine is None:
        return None
    return np.asarray(sample.affine, dtype=np.float64) @ np.linalg.inv(plane_affine(np.eye(4), k))


def on_item_grid(grid: CaseGrid, item: EvalItem, sample: Sample) -> np.ndarray:
    """The part of ``grid.array`` on the item's grid: the whole case (3D) or one plane (2D)."""
    want = tuple(sample.target.shape)
    array = grid.array
    detail = ""
    if len(want) == 3:
        if array.ndim != 3:
            raise InputError(str(grid.path), f"a {array.ndim}D output for a 3D item")
        placed = oriented(array, grid.affine, sample.affine, grid.path)
    elif array.ndim == 2:
        placed = array
    elif array.ndim == 3:
        k = item.cut
        if k is None:
            if array.shape[2] != 1:
                raise InputError(str(grid.path), "a 3D case output for a 2D item that does not say which slice it "
                                                 "is (no slice index): give a per-item 2D file")
            k = 0
        volume = oriented(array, grid.affine, case_affine(sample, k), grid.path)
        if not 0 <= k < volume.shape[2]:
            raise InputError(str(grid.path), f"the item is slice {k} but the output has {volume.shape[2]} slices")
        placed = plane_of(volume, k)
        detail = f" (its slice {k} is {tuple(placed.shape)} as [row, col])"
    else:
        raise InputError(str(grid.path), f"an output of shape {array.shape} is neither 2D nor 3D")
    if tuple(placed.shape) != want:
        raise InputError(str(grid.path), f"output shape {tuple(array.shape)} does not fit the item's grid {want}{detail}")
    return placed
