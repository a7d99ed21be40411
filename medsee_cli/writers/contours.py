"""Planar contours from 2D masks and back, exact at the voxel level.

`mask_contours` traces the pixel edges between foreground and background: each closed polygon
runs along voxel borders (vertices at voxel corners, half-integer indices), outer borders
counter-clockwise and hole borders clockwise. Filled with the even-odd rule at voxel centres
(`fill_even_odd`, the rule RT planning systems use for holes), the polygons give back exactly
the mask. Collinear vertices are dropped, so straight runs cost two points.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def _edges(mask: np.ndarray) -> np.ndarray:
    """Directed boundary edges as rows (a0, b0, a1, b1) in corner coordinates (corner = index - 0.5)."""
    m = np.pad(mask.astype(bool), 1)
    core = m[1:-1, 1:-1]
    ii, jj = np.nonzero(core & ~m[1:-1, :-2])  # no neighbour at j-1: edge (i,j)->(i+1,j)
    parts = [np.stack([ii, jj, ii + 1, jj], 1)]
    ii, jj = np.nonzero(core & ~m[2:, 1:-1])  # no neighbour at i+1: (i+1,j)->(i+1,j+1)
    parts.append(np.stack([ii + 1, jj, ii + 1, jj + 1], 1))
    ii, jj = np.nonzero(core & ~m[1:-1, 2:])  # no neighbour at j+1: (i+1,j+1)->(i,j+1)
    parts.append(np.stack([ii + 1, jj + 1, ii, jj + 1], 1))
    ii, jj = np.nonzero(core & ~m[:-2, 1:-1])  # no neighbour at i-1: (i,j+1)->(i,j)
    parts.append(np.stack([ii, jj + 1, ii, jj], 1))
    return np.concatenate(parts).astype(np.int64)


def _simplify(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop vertices that lie on a straight line between their neighbours."""
    n = len(loop)
    keep = []
    for idx in range(n):
        pa, pb, pc = loop[idx - 1], loop[idx], loop[(idx + 1) % n]
        cross = (pb[0] - pa[0]) * (pc[1] - pb[1]) - (pb[1] - pa[1]) * (pc[0] - pb[0])
        if cross != 0:
            keep.append(pb)
    return keep


def mask_contours(mask: np.ndarray) -> list[np.ndarray]:
    """Closed polygons (each an (n, 2) float array of ``[i, j]`` voxel coordinates) around ``mask``."""
    edges = _edges(mask)
    if edges.size == 0:
        return []
    outgoing: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a0, b0, a1, b1 in edges.tolist():
        outgoing[(a0, b0)].append((a1, b1))
    loops = []
    while outgoing:
        start = next(iter(outgoing))
        loop = [start]
        current = start
        while True:
            targets = outgoing[current]
            nxt = targets.pop()
            if not targets:
                del outgoing[current]
            if nxt == start:
                break
            loop.append(nxt)
            current = nxt
        loops.append(np.asarray(_simplify(loop), dtype=np.float64) - 0.5)
    return loops


def fill_even_odd(polygons: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Rasterise polygons (``[i, j]`` coordinates) at voxel centres with the even-odd rule."""
    ni, nj = shape
    parity = np.zeros((nj, ni + 1), dtype=np.uint8)  # per row j: toggles at column starts
    for poly in polygons:
        if len(poly) < 3:
            continue
        x0, y0 = poly[:, 0], poly[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        for xa, ya, xb, yb in zip(x0, y0, x1, y1):
            if ya == yb:
                continue
            lo, hi = (ya, yb) if ya < yb else (yb, ya)
            rows = np.arange(int(np.ceil(lo)), int(np.ceil(hi)))  # half-open: lo <= j < hi
            rows = rows[(rows >= 0) & (rows < nj)]
            if rows.size == 0:
                continue
            xs = xa + (rows - ya) * (xb - xa) / (yb - ya)
            first = np.clip(np.floor(xs).astype(np.int64) + 1, 0, ni)  # centres strictly right of x
            np.bitwise_xor.at(parity, (rows, first), 1)
    filled: np.ndarray = np.cumsum(parity[:, :ni], axis=1) % 2
    return filled.T.astype(bool)
