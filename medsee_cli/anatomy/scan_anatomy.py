"""`ScanAnatomy`: what one volume shows, worked out once per scan for every target's guard.

For a CT in Hounsfield units: the body region of each axial slice (`levels`) and the trunk with
its midline (`trunk`). For anything else (MR, CT already windowed to 0-255) neither is known, and
the midline is the middle of the field of view, as `medsee_cli.measure` takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from medsee_cli.anatomy.axial import Axial, axial
from medsee_cli.anatomy.levels import hu_sample, looks_like_hu, slice_labels
from medsee_cli.anatomy.trunk import Trunk, trunk
from medsee_cli.io.volume import Volume


@dataclass(frozen=True)
class ScanAnatomy:
    affine: np.ndarray
    shape: tuple[int, int, int]
    view: Optional[Axial] = None  # None: not a CT in HU
    levels: tuple[str, ...] = ()  # per axial slice of ``view``, inferior first ('' no body)
    trunk: Optional[Trunk] = None

    @property
    def voxel_ml(self) -> float:
        """One voxel's volume in mL."""
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0

    @property
    def slice_mm(self) -> float:
        """Spacing between axial slices."""
        axis = self.view.axis if self.view is not None else 2
        return float(np.linalg.norm(self.affine[:3, axis]))

    def midline_x(self, ijk: np.ndarray) -> np.ndarray:
        """(N,) patient x (RAS+, mm) of the body's midline at the level of each voxel in ``ijk``."""
        ijk = np.asarray(ijk, dtype=float).reshape(-1, 3)
        if self.view is not None and self.trunk is not None:
            cells = self.view.locate(np.rint(ijk).astype(np.int64))
            centre = self.trunk.centre[cells[:, 2]]
            known = np.isfinite(centre).all(axis=1)
            points = ijk.copy()
            if known.any():
                points[known] = self.view.voxel(np.column_stack([centre[known], cells[known, 2]]))
                points[known, self.view.axis] = ijk[known, self.view.axis]
            middle = ~known
        else:
            points, middle = ijk.copy(), np.ones(len(ijk), dtype=bool)
        if middle.any():  # the middle of the field of view in plane
            axis = self.view.axis if self.view is not None else 2
            for a in range(3):
                if a != axis:
                    points[middle, a] = (self.shape[a] - 1) / 2.0
        return np.asarray(points @ self.affine[0, :3] + self.affine[0, 3])


def scan_anatomy(volume: Volume) -> ScanAnatomy:
    """The anatomy of ``volume``: levels and trunk for CT in HU, the bare geometry otherwise."""
    affine = np.asarray(volume.affine, dtype=float)
    shape = tuple(int(n) for n in volume.spatial_shape[:3])
    if not looks_like_hu(hu_sample(volume)):
        return ScanAnatomy(affine, shape)  # type: ignore[arg-type]
    view = axial(volume)
    return ScanAnatomy(affine, shape, view, tuple(slice_labels(volume, view=view)), trunk(view))  # type: ignore[arg-type]
