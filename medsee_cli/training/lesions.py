"""Synthetic lesions inside real organs: hypodense blobs with soft edges and their own texture.

A lesion is an irregular ellipsoid (radii 4-15 mm, perturbed by low-frequency noise) centred
at a random voxel well inside the organ. Its intensity is the organ's median minus 25-70 HU
(hypodense, like most liver metastases, renal and pancreatic tumours on portal-venous CT),
blended in with a soft 1-2 mm edge and given fresh noise. Only voxels inside the organ change,
and the lesion's label is where the blend is above one half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class LesionSpec:
    target: str  # label name of the lesion, e.g. "liver_lesion"
    organ_ids: tuple[int, ...]  # label ids of the organ it grows in
    count: int = 1
    radius_mm: tuple[float, float] = (4.0, 15.0)
    contrast_hu: tuple[float, float] = (25.0, 70.0)


def insert_lesions(hu: np.ndarray, labels: np.ndarray, spacing: tuple[float, float, float], spec: LesionSpec,
                   rng: np.random.Generator, slices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hu, lesion mask) with ``spec.count`` lesions inserted; inputs are not modified.

    ``slices`` (indices along the last axis) restricts where lesion centres may fall.
    """
    hu = hu.astype(np.float32, copy=True)
    lesion = np.zeros(labels.shape, dtype=bool)
    organ = np.isin(labels, spec.organ_ids)
    if not organ.any():
        return hu, lesion
    spacing_arr = np.asarray(spacing, dtype=np.float32)
    depth = ndimage.distance_transform_edt(organ, sampling=spacing)
    for _ in range(spec.count):
        radius = float(rng.uniform(*spec.radius_mm))
        inside = np.argwhere(depth > min(radius * 0.6, float(depth.max()) * 0.7))
        if slices is not None:
            inside = inside[np.isin(inside[:, 2], slices)]
        if len(inside) == 0:
            continue
        centre = inside[rng.integers(len(inside))]
        radii = radius * rng.uniform(0.75, 1.25, size=3)
        half = np.ceil(radii * 1.5 / spacing_arr).astype(int) + 2
        lo = np.maximum(centre - half, 0)
        hi = np.minimum(centre + half + 1, labels.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        grids = np.meshgrid(*[(np.arange(a, b) - c) * s for a, b, c, s in zip(lo, hi, centre, spacing_arr)], indexing="ij")
        distance = np.sqrt(sum((g / r) ** 2 for g, r in zip(grids, radii)))
        wobble = ndimage.gaussian_filter(rng.normal(size=distance.shape), 2.0)
        distance = distance + 0.15 * wobble / max(float(np.abs(wobble).max()), 1e-6)
        edge = float(rng.uniform(1.0, 2.0)) / radius
        blend = 1.0 / (1.0 + np.exp((distance - 1.0) / edge))
        region = organ[box]
        blend = blend * region
        organ_hu = float(np.median(hu[box][region])) if region.any() else float(np.median(hu[organ]))
        value = organ_hu - float(rng.uniform(*spec.contrast_hu))
        texture = rng.normal(0.0, 8.0, size=distance.shape)
        hu[box] = hu[box] * (1 - blend) + (value + texture) * blend
        lesion[box] |= blend > 0.5
    return hu, lesion
