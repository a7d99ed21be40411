"""`measure`: one target's mask on a volume's grid -> its `Measurement` (the only such code).

Voxel boxes are inclusive index ranges in array order ``i, j, k``; a slice box is
``[i_min, j_min, i_max, j_max]``. Millimetre boxes are axis-aligned in RAS+ and enclose whole
voxels (their corners), so they stay right for oblique and flipped grids. Volume uses the
affine's determinant. Intensities are read ``CHUNK`` slices at a time (never a full copy):
integer images get an exact median from a histogram, float images the median of the values.
`Measurement.to_dict` is the one serialisation (and rounding) the answer and ``boxes.json`` share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from scipy import ndimage

from medsee_cli.io.volume import Volume
from medsee_cli.measure.region import RegionMask, bounds

BODY_HU = -300.0  # CT voxels above this are "patient", used to find the body's midline
MIDLINE_MM = 15.0
CHUNK = 16


@dataclass(frozen=True)
class SliceBox:
    """A target on slice ``k``: its box ``(i_min, j_min, i_max, j_max)`` (inclusive) and voxel count."""

    k: int
    box: tuple[int, int, int, int]
    voxels: int


@dataclass(frozen=True)
class Intensity:
    """Statistics of the voxel values under a mask; ``unit`` is ``HU`` for CT, else ``arbitrary``."""

    unit: str
    mean: float
    std: float
    median: float
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "mean": round(self.mean, 1), "std": round(self.std, 1),
                "median": round(self.median, 1), "min": round(self.min, 1), "max": round(self.max, 1)}


@dataclass(frozen=True)
class Measurement:
    """What was measured of one (non-empty) target mask."""

    voxels: int
    volume_ml: float
    box_min: tuple[int, int, int]  # voxel indices i, j, k (inclusive)
    box_max: tuple[int, int, int]
    mm_min: tuple[float, float, float]  # RAS+ corners of the voxel block
    mm_max: tuple[float, float, float]
    centroid_mm: tuple[float, float, float]
    side: str  # "right", "left" or "midline" (the patient's), "" when unknown
    slices: tuple[SliceBox, ...]
    intensity: Optional[Intensity]

    @property
    def size_mm(self) -> tuple[float, ...]:
        return tuple(hi - lo for lo, hi in zip(self.mm_min, self.mm_max))

    def to_dict(self) -> dict[str, Any]:
        return {"voxels": self.voxels, "volume_ml": round(self.volume_ml, 3),
                "box_voxel": {"min": list(self.box_min), "max": list(self.box_max)},
                "box_mm": {"min": _round(self.mm_min), "max": _round(self.mm_max)},
                "size_mm": _round(self.size_mm, 1), "centroid_mm": _round(self.centroid_mm), "side": self.side,
                "intensity": self.intensity.to_dict() if self.intensity else None,
                "slices": [{"k": s.k, "box": list(s.box), "voxels": s.voxels} for s in self.slices]}


def _round(values: Any, digits: int = 2) -> list[float]:
    return [round(float(v), digits) for v in values]


def mm_box(affine: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RAS+ min/max corners of the voxel block ``lo..hi`` (inclusive indices)."""
    corners = np.array([[a, b, c] for a in (lo[0] - 0.5, hi[0] + 0.5) for b in (lo[1] - 0.5, hi[1] + 0.5)
                        for c in (lo[2] - 0.5, hi[2] + 0.5)])
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    return world.min(axis=0), world.max(axis=0)


def measure(volume: Volume, region: RegionMask, modality: str, *, intensities: bool = True) -> Optional[Measurement]:
    """The measurement of ``region`` on ``volume``'s grid (``None`` when the mask is empty).

    ``modality`` is the run's decision (`effective_modality`): CT gives HU statistics and the
    body midline for the side. ``intensities`` off: the volume holds no image values (a label
    map read back without its source), so no statistics."""
    box = bounds(region.mask)
    if box is None:
        return None
    offset = np.asarray(region.offset)
    lo = offset + np.array([b.start for b in box])
    hi = offset + np.array([b.stop - 1 for b in box])
    voxels = int(np.count_nonzero(region.mask))
    centroid_ijk = offset + np.array(ndimage.center_of_mass(region.mask))
    centroid = volume.affine[:3, :3] @ centroid_ijk + volume.affine[:3, 3]
    mm_lo, mm_hi = mm_box(volume.affine, lo, hi)
    return Measurement(
        voxels=voxels, volume_ml=voxels * volume.voxel_volume_ml,
        box_min=_ints(lo), box_max=_ints(hi), mm_min=_floats(mm_lo), mm_max=_floats(mm_hi),
        centroid_mm=_floats(centroid), side=_side(volume, centroid_ijk, centroid, modality),
        slices=_slice_boxes(region), intensity=_intensity(volume, region, modality) if intensities else None)


def _ints(values: Any) -> tuple[int, int, int]:
    a, b, c = (int(v) for v in values)
    return a, b, c


def _floats(values: Any) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return a, b, c


def _slice_boxes(region: RegionMask) -> tuple[SliceBox, ...]:
    i0, j0, k0 = region.offset
    out = []
    for dk in range(region.mask.shape[2]):
        plane = region.mask[:, :, dk]
        count = int(np.count_nonzero(plane))
        if count == 0:
            continue
        ii, jj = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
        out.append(SliceBox(k0 + dk, (i0 + int(ii[0]), j0 + int(jj[0]), i0 + int(ii[-1]), j0 + int(jj[-1])), count))
    return tuple(out)


def _intensity(volume: Volume, region: RegionMask, modality: str) -> Optional[Intensity]:
    i0, j0, k0 = region.offset
    di, dj, dk = region.mask.shape
    count, total, squares = 0, 0.0, 0.0
    low, high = np.inf, -np.inf
    histogram: dict[int, int] = {}
    floats = []
    for start in range(0, dk, CHUNK):
        stop = min(dk, start + CHUNK)
        values = volume.slab(k0 + start, k0 + stop)[i0:i0 + di, j0:j0 + dj][region.mask[:, :, start:stop]]
        if values.size == 0:
            continue
        as_float = values.astype(np.float64)
        count += values.size
        total += float(as_float.sum())
        squares += float((as_float ** 2).sum())
        low, high = min(low, float(as_float.min())), max(high, float(as_float.max()))
        if values.dtype.kind in "iub":
            found, counts = np.unique(values, return_counts=True)
            for value, n in zip(found.tolist(), counts.tolist()):
                histogram[int(value)] = histogram.get(int(value), 0) + n
        else:
            floats.append(values.astype(np.float32))
    if count == 0:
        return None
    mean = total / count
    std = max(0.0, squares / count - mean ** 2) ** 0.5
    median = _histogram_median(histogram, count) if histogram else float(np.median(np.concatenate(floats)))
    return Intensity("HU" if modality == "CT" else "arbitrary", mean, std, median, low, high)


def _histogram_median(histogram: dict[int, int], count: int) -> float:
    values = sorted(histogram)
    cumulative = np.cumsum([histogram[v] for v in values])
    lower = values[int(np.searchsorted(cumulative, (count + 1) // 2))]
    upper = values[int(np.searchsorted(cumulative, count // 2 + 1))]
    return (lower + upper) / 2.0


def _side(volume: Volume, centroid_ijk: np.ndarray, centroid_mm: np.ndarray, modality: str) -> str:
    """The patient's side of the centroid relative to the body midline (RAS+: +x points to the patient's right)."""
    k = int(round(float(centroid_ijk[2])))
    if modality == "CT":
        plane = volume.slab(k, k + 1)[:, :, 0]
        body = np.argwhere(plane > BODY_HU)
        if len(body) < 100:
            return ""
        centre_ij = body.mean(axis=0)
    else:
        centre_ij = (np.array(volume.spatial_shape[:2], dtype=float) - 1) / 2
    centre = volume.affine[:3, :3] @ np.array([centre_ij[0], centre_ij[1], k]) + volume.affine[:3, 3]
    dx = float(centroid_mm[0] - centre[0])
    if abs(dx) < MIDLINE_MM:
        return "midline"
    return "right" if dx > 0 else "left"
