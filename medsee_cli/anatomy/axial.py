"""`Axial`: a volume seen as axial slices, inferior first, on a coarse in-plane grid, and the way
back from that grid to the volume's voxels. The one view `levels` and `trunk` work on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

GRID_MM = 4.0  # in-plane sampling step: coarse is enough and keeps it cheap


@dataclass(frozen=True)
class Axial:
    """Slices along the last axis, inferior first, sampled about every GRID_MM in plane.

    ``axis``: the volume axis that is axial; ``flipped``: the volume runs superior first along it;
    ``plane_axes`` and ``steps``: the two in-plane volume axes and the sampling step on each.
    """

    data: np.ndarray
    pixel_cm2: float
    lr_axis: int  # the in-plane axis (0 or 1) closest to the patient's left-right
    axis: int = 2
    flipped: bool = False
    plane_axes: tuple[int, int] = (0, 1)
    steps: tuple[int, int] = (1, 1)

    def locate(self, ijk: np.ndarray) -> np.ndarray:
        """(N, 3) volume voxel indices -> (N, 3) indices (a, b, z) into ``data`` (clipped to it)."""
        ijk = np.asarray(ijk, dtype=np.int64).reshape(-1, 3)
        depth = self.data.shape[2]
        z = ijk[:, self.axis]
        if self.flipped:
            z = depth - 1 - z
        a = np.minimum(ijk[:, self.plane_axes[0]] // self.steps[0], self.data.shape[0] - 1)
        b = np.minimum(ijk[:, self.plane_axes[1]] // self.steps[1], self.data.shape[1] - 1)
        return np.stack([a, b, np.clip(z, 0, depth - 1)], axis=1)

    def voxel(self, cells: np.ndarray) -> np.ndarray:
        """(N, 3) float cells (a, b, z) of ``data`` -> (N, 3) volume voxel indices (``locate`` reversed)."""
        cells = np.asarray(cells, dtype=float).reshape(-1, 3)
        ijk = np.zeros_like(cells)
        ijk[:, self.plane_axes[0]] = cells[:, 0] * self.steps[0]
        ijk[:, self.plane_axes[1]] = cells[:, 1] * self.steps[1]
        ijk[:, self.axis] = self.data.shape[2] - 1 - cells[:, 2] if self.flipped else cells[:, 2]
        return ijk


def axial_axis(affine: np.ndarray) -> int:
    """The volume axis closest to the patient's inferior-superior direction: its slices are axial."""
    return int(np.argmax(np.abs(np.asarray(affine, dtype=float)[2, :3])))


def axial(volume: Any) -> Axial:
    affine = np.asarray(volume.affine, dtype=float)
    axis = axial_axis(affine)
    data = np.asarray(volume.array())
    if data.ndim > 3:
        data = data[..., 0]
    data = np.moveaxis(data, axis, -1)
    flipped = bool(affine[2, axis] < 0)
    if flipped:
        data = data[..., ::-1]
    plane_axes = tuple(a for a in range(3) if a != axis)
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    steps = tuple(max(1, int(round(GRID_MM / spacing[a]))) for a in plane_axes)
    area = spacing[plane_axes[0]] * steps[0] * spacing[plane_axes[1]] * steps[1] / 100.0
    lr = int(np.argmax([abs(affine[0, a]) for a in plane_axes]))
    return Axial(data[:: steps[0], :: steps[1], :], area, lr, axis, flipped,
                 (int(plane_axes[0]), int(plane_axes[1])), (int(steps[0]), int(steps[1])))
