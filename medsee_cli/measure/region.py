"""`RegionMask`: a bool mask placed at a voxel offset of a volume, so work follows a target's size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


CONNECTIVITY = np.ones((3, 3, 3), dtype=bool)  # 26-connected: what counts as one piece of a region


@dataclass(frozen=True)
class RegionMask:
    """A bool mask ``mask`` placed at voxel ``offset`` = (i0, j0, k0) of the volume."""

    offset: tuple[int, int, int]
    mask: np.ndarray  # (di, dj, dk) bool

    @property
    def voxels(self) -> int:
        return int(np.count_nonzero(self.mask))

    def paint(self, labelmap: np.ndarray, value: int, *, overwrite: bool = True) -> None:
        """Write ``value`` into ``labelmap`` (the volume grid) where the mask is set."""
        i0, j0, k0 = self.offset
        di, dj, dk = self.mask.shape
        view = labelmap[i0:i0 + di, j0:j0 + dj, k0:k0 + dk]
        where = self.mask if overwrite else self.mask & (view == 0)
        view[where] = value


def bounds(mask: np.ndarray) -> tuple[slice, ...] | None:
    """The tightest slices around the set voxels of ``mask`` (``None`` when empty), without copies."""
    spans = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        if hits.size == 0:
            return None
        spans.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(spans)


def crop(region: RegionMask) -> RegionMask | None:
    """The same mask trimmed to its set voxels (``None`` when it has none)."""
    box = bounds(region.mask)
    if box is None:
        return None
    i0, j0, k0 = (int(o + s.start) for o, s in zip(region.offset, box))
    return RegionMask((i0, j0, k0), region.mask[box].copy())
