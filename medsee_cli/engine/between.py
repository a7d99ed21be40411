"""Thin slices: read every n-th slice and draw the slices between by shape interpolation.

A series of 1.1 mm slices holds three slices for every one the model was trained on (about
3 mm apart), and neighbouring thin slices differ by less than the model's own slice-to-slice
jitter. The engine therefore reads slices at most ``EngineOptions.read_spacing_mm`` apart
(`read_step`) and, for each target found on two consecutive read slices, draws the slices
between them from the signed distance maps of the two outlines blended linearly (shape-based
interpolation, as "fill between slices" tools do). A target seen on one read slice and not on
the next is not extended past the slice that showed it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage

from medsee_cli.engine.tracks import SliceHit, TargetTrack


def read_step(spacing_mm: float, read_spacing_mm: float) -> int:
    """How many slices apart the read slices are: the largest n with n x spacing within
    ``read_spacing_mm`` (5% leeway for rounding in headers); 1 when either is 0 or unknown."""
    if read_spacing_mm <= 0 or not np.isfinite(spacing_mm) or spacing_mm <= 0:
        return 1
    return max(1, int(np.floor(read_spacing_mm / spacing_mm * 1.05)))


def read_slices(depth: int, step: int) -> np.ndarray:
    """The slices read: every ``step``-th from the first, and the last, so both ends are seen."""
    picked = np.arange(0, depth, step)
    if picked.size and picked[-1] != depth - 1:
        picked = np.append(picked, depth - 1)
    return picked


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Negative inside, positive outside, in voxels (half a voxel at the boundary on each side)."""
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    return np.asarray(np.where(mask, 0.5 - inside, outside - 0.5), dtype=np.float64)


def _on_frame(hit: SliceHit, frame: tuple[int, int, int, int]) -> np.ndarray:
    i0, j0, i1, j1 = frame
    canvas = np.zeros((i1 - i0 + 1, j1 - j0 + 1), dtype=bool)
    di, dj = hit.offset[0] - i0, hit.offset[1] - j0
    canvas[di:di + hit.mask.shape[0], dj:dj + hit.mask.shape[1]] = hit.mask
    return canvas


def between(first: SliceHit, last: SliceHit, slices: range) -> list[SliceHit]:
    """The hits of ``slices`` (strictly between ``first.k`` and ``last.k``), each outline the zero
    level of the two outlines' signed distances blended by position; scores blended alike."""
    a, b = first.box, last.box
    # a margin of one voxel so a shape touching its box edge still has an outside there
    frame = (max(0, min(a[0], b[0]) - 1), max(0, min(a[1], b[1]) - 1), max(a[2], b[2]) + 1, max(a[3], b[3]) + 1)
    near, far = _signed_distance(_on_frame(first, frame)), _signed_distance(_on_frame(last, frame))
    hits = []
    for k in slices:
        t = (k - first.k) / (last.k - first.k)
        drawn = SliceHit.from_mask(k, (1 - t) * first.score + t * last.score, (1 - t) * near + t * far < 0)
        if drawn is not None:
            hits.append(replace(drawn, offset=(drawn.offset[0] + frame[0], drawn.offset[1] + frame[1])))
    return hits


def spread(track: TargetTrack, read: np.ndarray, depth: int) -> TargetTrack:
    """``track`` ran on the read slices (its slice ``g`` is volume slice ``read[g]``) -> the same
    target over all ``depth`` slices, the slices between two hits drawn by `between`. Scores of
    drawn slices are blended from their two neighbours; slices neither read nor drawn stay NaN."""
    full = TargetTrack(track.name, depth)
    full.scores[read] = track.scores
    for g, hit in track.hits.items():
        full.hits[int(read[g])] = replace(hit, k=int(read[g]))
    for g in range(len(read) - 1):
        first, last = full.hits.get(int(read[g])), full.hits.get(int(read[g + 1]))
        if first is None or last is None or last.k - first.k < 2:
            continue
        for hit in between(first, last, range(first.k + 1, last.k)):
            full.hits[hit.k] = hit
            full.scores[hit.k] = hit.score
    return full
