"""Compact per-slice results: a presence score per slice and a cropped mask where found.

A 512x512x1000 volume never gets a dense per-target array during the pass: each hit keeps
only the bool crop around what was found, in volume axes ``(i, j)`` of slice ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SliceHit:
    """What was found on slice ``k``: a bool crop at ``offset`` = (i0, j0) and its score."""

    k: int
    score: float
    offset: tuple[int, int]
    mask: np.ndarray  # (di, dj) bool, axes (i, j) of the volume

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(i0, j0, i1, j1), inclusive voxel indices on the slice."""
        i0, j0 = self.offset
        return (i0, j0, i0 + self.mask.shape[0] - 1, j0 + self.mask.shape[1] - 1)

    @property
    def voxels(self) -> int:
        return int(self.mask.sum())

    @classmethod
    def from_mask(cls, k: int, score: float, mask_ij: np.ndarray) -> "SliceHit | None":
        """From an (i, j) bool mask of slice ``k``; ``None`` when it is empty."""
        mask_ij = np.asarray(mask_ij, dtype=bool)
        rows = np.flatnonzero(mask_ij.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(mask_ij.any(axis=0))
        crop = mask_ij[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy()
        return cls(int(k), float(score), (int(rows[0]), int(cols[0])), crop)


@dataclass
class TargetTrack:
    """Everything the pass learnt about one target: scores for the slices run, hits where found."""

    name: str
    depth: int
    scores: np.ndarray = field(init=False)  # (K,) float32, NaN where the slice was not run
    hits: dict[int, SliceHit] = field(default_factory=dict)
    drawn: set[int] = field(default_factory=set)  # slices whose hit was drawn from neighbours (`engine.between`), not run

    def __post_init__(self) -> None:
        self.scores = np.full(self.depth, np.nan, dtype=np.float32)

    def record(self, k: int, score: float, hit: SliceHit | None) -> None:
        self.scores[k] = score
        if hit is not None:
            self.hits[k] = hit
        else:
            self.hits.pop(k, None)
