"""3D post-processing: assemble a target's slice hits and keep the pieces consistent across slices.

A piece (26-connected component) is kept when it has at least ``min_voxels`` voxels and spans
at least ``min_slices`` slices: a blob on a single slice with nothing above or below is far more
often a false alarm than a finding. Work happens inside the target's own bounding region, so
memory follows the target's size, not the volume's (`RegionMask`, from `medsee_cli.measure`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import ndimage

from medsee_cli.engine.tracks import SliceHit
from medsee_cli.measure.region import CONNECTIVITY, RegionMask, crop


def assemble(hits: Iterable[SliceHit]) -> RegionMask | None:
    """The hits of one target as one region mask (``None`` when there are none)."""
    hits = list(hits)
    if not hits:
        return None
    boxes = np.array([h.box for h in hits])
    ks = np.array([h.k for h in hits])
    i0, j0 = int(boxes[:, 0].min()), int(boxes[:, 1].min())
    i1, j1 = int(boxes[:, 2].max()), int(boxes[:, 3].max())
    k0, k1 = int(ks.min()), int(ks.max())
    region = np.zeros((i1 - i0 + 1, j1 - j0 + 1, k1 - k0 + 1), dtype=bool)
    for hit in hits:
        a, b = hit.offset[0] - i0, hit.offset[1] - j0
        region[a:a + hit.mask.shape[0], b:b + hit.mask.shape[1], hit.k - k0] |= hit.mask
    return RegionMask((i0, j0, k0), region)


TOO_SMALL = "too small (fewer voxels than the smallest finding, or on one slice only)"


def keep_consistent(region: RegionMask, min_voxels: int, min_slices: int) -> tuple[RegionMask | None, int, int]:
    """Drop small or single-slice pieces; returns the cleaned (cropped) region, the pieces kept and
    the voxels dropped (said as `TOO_SMALL`)."""
    labels, count = ndimage.label(region.mask, structure=CONNECTIVITY)
    if count == 0:
        return None, 0, 0
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    kept = []
    for value, found in enumerate(ndimage.find_objects(labels), start=1):
        span = found[2].stop - found[2].start
        if sizes[value - 1] >= min_voxels and span >= min_slices:
            kept.append(value)
    dropped = int(sizes.sum() - sizes[np.asarray(kept, dtype=int) - 1].sum())
    if not kept:
        return None, 0, dropped
    if len(kept) == count:
        mask = region.mask
    else:
        lookup = np.zeros(count + 1, dtype=bool)
        lookup[kept] = True
        mask = lookup[labels]
    del labels
    return crop(RegionMask(region.offset, mask)), len(kept), dropped
