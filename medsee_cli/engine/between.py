"""Thin slices: read every n-th slice and draw the slices between by shape interpolation.

A series of 1.1 mm slices holds three slices for every one the model was trained on (about
3 mm apart), and neighbouring thin slices differ by less than the model's own slice-to-slice
jitter. The engine therefore reads slices at most ``EngineOptions.read_spacing_mm`` apart
(`read_step`) and, for each target found on two consecutive read slices, draws the slices
between them from the signed distance maps of the two outlines blended linearly (shape-based
interpolation, as "fill between slices" tools do). A target seen on one read slice and not on
the next is not extended past the slice that showed it.

Bridging: within a target's extent, consecutive thin slices barely change, so the engine reads
even fewer. Between two read slices at most ``EngineOptions.bridge_mm`` apart whose outlines of
every target plausible there agree (`agreement`, Dice >= ``bridge_agreement``), the read slices
between are not run but drawn like the rest (`bisect_positions`); where outlines disagree, or a
target appears or ends, the middle read slice is run, down to every read slice.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def bridge_positions(spacing_mm: float, step: int, bridge_mm: float) -> int:
    """How many read positions apart two read slices may be for the ones between to be drawn
    without being run (`bisect_positions`); 0 (no bridging) unless thin slices are read sparsely
    (``step`` > 1) and that is at least two positions."""
    if step <= 1 or bridge_mm <= 0 or not np.isfinite(spacing_mm) or spacing_mm <= 0:
        return 0
    positions = int(np.floor(bridge_mm / (step * spacing_mm) * 1.05))
    return positions if positions >= 2 else 0


def _frame(a: SliceHit, b: SliceHit, margin: int = 0) -> tuple[int, int, int, int]:
    """The box holding both outlines, grown by ``margin`` voxels (not below index 0)."""
    return (max(0, min(a.box[0], b.box[0]) - margin), max(0, min(a.box[1], b.box[1]) - margin),
            max(a.box[2], b.box[2]) + margin, max(a.box[3], b.box[3]) + margin)


def agreement(a: SliceHit, b: SliceHit) -> float:
    """Dice of two outlines as they lie in the volume (``a`` and ``b`` on different slices)."""
    frame = _frame(a, b)
    both = int(np.count_nonzero(_on_frame(a, frame) & _on_frame(b, frame)))
    return 2.0 * both / max(a.voxels + b.voxels, 1)


def bisect_positions(ran: np.ndarray, done: np.ndarray, plausible: np.ndarray, tracks: Sequence[TargetTrack],
                     bridge: int, agree: float) -> list[int]:
    """The read positions to run next. For every two consecutive positions run (``ran``) with
    positions between them not run yet, and a target plausible at either (``plausible``: (T, P)
    bool): the middle one is wanted, unless they are at most ``bridge`` apart and every target
    plausible there has outlines on both that agree (Dice >= ``agree``). ``done`` marks
    positions never to run (already run, or where no target can lie)."""
    wanted = []
    run = [int(g) for g in np.flatnonzero(ran)]
    for a, b in zip(run, run[1:]):
        open_ = [g for g in range(a + 1, b) if not done[g]]
        if not open_:
            continue
        targets = [t for t in range(len(tracks)) if plausible[t, a] or plausible[t, b]]
        if not targets:
            continue
        if b - a <= bridge and all(a in tracks[t].hits and b in tracks[t].hits
                                   and agreement(tracks[t].hits[a], tracks[t].hits[b]) >= agree for t in targets):
            continue
        wanted.append(min(open_, key=lambda g: (abs(2 * g - a - b), g)))
    return wanted


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
    frame = _frame(first, last, margin=1)  # so a shape touching its box edge still has an outside there
    near, far = _signed_distance(_on_frame(first, frame)), _signed_distance(_on_frame(last, frame))
    hits = []
    for k in slices:
        t = (k - first.k) / (last.k - first.k)
        drawn = SliceHit.from_mask(k, (1 - t) * first.score + t * last.score, (1 - t) * near + t * far < 0)
        if drawn is not None:
            hits.append(replace(drawn, offset=(drawn.offset[0] + frame[0], drawn.offset[1] + frame[1])))
    return hits


def drawn_spans(track: TargetTrack, bridge: int = 0) -> list[tuple[int, int]]:
    """Pairs of read positions (g, h) of ``track``'s hits whose slices between are drawn: consecutive
    read positions, or at most ``bridge`` apart with no position between them run (bridged)."""
    found = sorted(track.hits)
    return [(g, h) for g, h in zip(found, found[1:])
            if h - g == 1 or (h - g <= bridge and bool(np.isnan(track.scores[g + 1:h]).all()))]


def spread(track: TargetTrack, read: np.ndarray, depth: int, bridge: int = 0) -> TargetTrack:
    """``track`` ran on the read slices (its slice ``g`` is volume slice ``read[g]``) -> the same
    target over all ``depth`` slices, the slices between two hits drawn by `between`: hits on
    consecutive read slices, or at most ``bridge`` read positions apart with none run between
    (bridged, `bisect_positions`). Scores of drawn slices are blended from their two neighbours;
    slices neither read nor drawn stay NaN."""
    full = TargetTrack(track.name, depth)
    full.scores[read] = track.scores
    for g, hit in track.hits.items():
        full.hits[int(read[g])] = replace(hit, k=int(read[g]))
    for g, h in drawn_spans(track, bridge):
        first, last = full.hits[int(read[g])], full.hits[int(read[h])]
        if last.k - first.k < 2:
            continue
        for hit in between(first, last, range(first.k + 1, last.k)):
            full.hits[hit.k] = hit
            full.scores[hit.k] = hit.score
            full.drawn.add(hit.k)
    return full
