"""`Finding`: what the engine reports for one target: voxels, mL, 3D boxes, slices, HU statistics.

Voxel boxes are inclusive ``[i, j, k]`` index ranges on the source grid. Millimetre boxes are
axis-aligned in RAS+ and enclose whole voxels (their corners), so they stay right for oblique
and flipped grids. Volume uses the affine's determinant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from scipy import ndimage

from medsee_cli.engine.components import RegionMask, assemble, bounds, keep_consistent
from medsee_cli.engine.modality import effective_modality
from medsee_cli.engine.tracks import TargetTrack
from medsee_cli.io.volume import Volume

BODY_HU = -300.0  # CT voxels above this are "patient", used to find the body's midline
MIDLINE_MM = 15.0


@dataclass(frozen=True)
class Finding:
    target: str
    present: bool
    voxels: int = 0
    volume_ml: float = 0.0
    box_voxel: Optional[dict[str, list[int]]] = None
    box_mm: Optional[dict[str, list[float]]] = None
    size_mm: Optional[list[float]] = None
    centroid_mm: Optional[list[float]] = None
    side: str = ""  # "right", "left" or "midline" (the patient's), "" when unknown
    score: float = 0.0  # mean presence over the slices kept
    pieces: int = 0
    slices: list[dict[str, Any]] = field(default_factory=list)
    intensity: Optional[dict[str, Any]] = None
    region: Optional[RegionMask] = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The medsee.ask/1 finding: target, present, voxels, volume_ml, box_voxel, box_mm, slices."""
        return {"target": self.target, "present": self.present, "voxels": self.voxels,
                "volume_ml": self.volume_ml, "box_voxel": self.box_voxel, "box_mm": self.box_mm,
                "slices": self.slices}

    def measurements(self) -> dict[str, Any]:
        """What else was measured (size, centre, side, score, pieces, intensity)."""
        return {"target": self.target, "size_mm": self.size_mm, "centroid_mm": self.centroid_mm, "side": self.side,
                "score": round(self.score, 4), "pieces": self.pieces, "intensity": self.intensity}


def mm_box(affine: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RAS+ min/max corners of the voxel block ``lo..hi`` (inclusive indices)."""
    corners = np.array([[a, b, c] for a in (lo[0] - 0.5, hi[0] + 0.5) for b in (lo[1] - 0.5, hi[1] + 0.5)
                        for c in (lo[2] - 0.5, hi[2] + 0.5)])
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    return world.min(axis=0), world.max(axis=0)


def _round(values: Any, digits: int = 2) -> list[float]:
    return [round(float(v), digits) for v in values]


def _intensity(volume: Volume, region: RegionMask, modality: str, chunk: int = 16) -> Optional[dict[str, Any]]:
    """Mean, std, median, min, max of the voxels under the mask, read ``chunk`` slices at a time.

    Integer images get an exact median from a histogram; float images the median of the
    values themselves (gathered per chunk as float32).
    """
    i0, j0, k0 = region.offset
    di, dj, dk = region.mask.shape
    count, total, squares = 0, 0.0, 0.0
    low, high = np.inf, -np.inf
    histogram: dict[int, int] = {}
    floats = []
    for start in range(0, dk, chunk):
        stop = min(dk, start + chunk)
        sub = region.mask[:, :, start:stop]
        values = volume.slab(k0 + start, k0 + stop)[i0:i0 + di, j0:j0 + dj][sub]
        if values.size == 0:
            continue
        as_float = values.astype(np.float64)
        count += values.size
        total += float(as_float.sum())
        squares += float((as_float ** 2).sum())
        low, high = min(low, float(as_float.min())), max(high, float(as_float.max()))
        if values.dtype.kind in "iu":
            found, counts = np.unique(values, return_counts=True)
            for value, n in zip(found.tolist(), counts.tolist()):
                histogram[value] = histogram.get(value, 0) + n
        else:
            floats.append(values.astype(np.float32))
    if count == 0:
        return None
    mean = total / count
    std = max(0.0, squares / count - mean ** 2) ** 0.5
    median = _histogram_median(histogram, count) if histogram else float(np.median(np.concatenate(floats)))
    return {"unit": "HU" if modality == "CT" else "arbitrary", "mean": round(mean, 1), "std": round(std, 1),
            "median": round(median, 1), "min": round(low, 1), "max": round(high, 1)}


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


def measure(volume: Volume, track: TargetTrack, *, min_voxels: int = 20, min_slices: int = 2,
            modality: Optional[str] = None) -> Finding:
    """The finding for one target track: assembled, cleaned, measured on ``volume``'s grid.

    ``modality`` defaults to `effective_modality` (a NIfTI holding HU counts as CT)."""
    region = assemble(track.hits.values())
    pieces = 0
    if region is not None:
        region, pieces = keep_consistent(region, min_voxels, min_slices)
    if region is None:
        return Finding(track.name, False)
    modality = modality or effective_modality(volume)
    box = bounds(region.mask)
    offset = np.asarray(region.offset)
    lo = offset + np.array([b.start for b in box])
    hi = offset + np.array([b.stop - 1 for b in box])
    voxels = int(np.count_nonzero(region.mask))
    centroid_ijk = offset + np.array(ndimage.center_of_mass(region.mask))
    centroid = volume.affine[:3, :3] @ centroid_ijk + volume.affine[:3, 3]
    mm_lo, mm_hi = mm_box(volume.affine, lo, hi)
    slices = []
    scores = []
    for dk in range(region.mask.shape[2]):
        plane = region.mask[:, :, dk]
        if not plane.any():
            continue
        k = region.offset[2] + dk
        rows, cols = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
        score = float(track.scores[k]) if np.isfinite(track.scores[k]) else 0.0
        scores.append(score)
        slices.append({"index": int(k),
                       "box": [int(region.offset[0] + rows[0]), int(region.offset[1] + cols[0]),
                               int(region.offset[0] + rows[-1]), int(region.offset[1] + cols[-1])],
                       "score": round(score, 4)})
    return Finding(
        target=track.name, present=True, voxels=voxels,
        volume_ml=round(voxels * volume.voxel_volume_ml, 3),
        box_voxel={"min": [int(v) for v in lo], "max": [int(v) for v in hi]},
        box_mm={"min": _round(mm_lo), "max": _round(mm_hi)},
        size_mm=_round(mm_hi - mm_lo, 1), centroid_mm=_round(centroid),
        side=_side(volume, centroid_ijk, centroid, modality), score=float(np.mean(scores)) if scores else 0.0,
        pieces=pieces, slices=slices, intensity=_intensity(volume, region, modality), region=region)
