"""Which pixels a slice holds, whatever its orientation: how evaluation recognises training data.

A slice's fingerprint hashes its pixel values rounded to integers and sorted, so the same slice
gives the same fingerprint after any of the 8 flips/rotations/transpositions, as float or int,
cut from a volume or exported alone. Re-windowed or resampled copies get other fingerprints
(they are other pixels). A constant slice (padding, air) has none: it identifies nothing.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIGITS = 16  # hex digits kept: 64 bits, collisions negligible for the few thousand slices compared


def slice_fingerprint(plane: np.ndarray) -> str | None:
    """The fingerprint of a 2D ``plane`` (``None`` when every pixel has the same value)."""
    values = np.rint(np.asarray(plane, dtype=np.float64)).astype(np.int64).ravel()
    if values.size == 0 or values.min() == values.max():
        return None
    return hashlib.sha256(np.sort(values).tobytes()).hexdigest()[:DIGITS]


def volume_fingerprints(volume: np.ndarray) -> list[str | None]:
    """The fingerprint of every slice ``volume[:, :, k]`` of a 3D array, in order of k."""
    array = np.asarray(volume)
    return [slice_fingerprint(array[:, :, k]) for k in range(array.shape[2])]
