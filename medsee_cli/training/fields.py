"""Zoomed fields of view for training: a slice cut to a smaller square field.

A scanner reconstructs the same data in whatever field the operator picks (350-450 mm for an
abdomen, 180-250 mm for the mediastinum or one organ), and the grounding model resizes every
slice to its input, so a small field shows the organs larger and without the body's outline.
`medsee-grounding-v1`, trained on whole-body fields only, found no organ on patient_a cut to
180 mm and only part of the liver at 250 mm (`bench/field_of_view.py`). A volume source with
``fields_mm: [180, 250]`` gives, instead of each picked slice, one cut of it per field: a square
of that side around a random point of the body's middle, air where it leaves the image.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from medsee_cli.model.preprocess import BODY_LEVEL
from medsee_cli.training.slices import LabelledSlice, by_presence


def cut(image: np.ndarray, masks: dict[str, np.ndarray], negatives: tuple[str, ...], field_mm: float,
        pixel_mm: tuple[float, float], rng: np.random.Generator
        ) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    """(image, present masks, negatives) of a ``field_mm`` square of one slice. A target whose
    outline the cut leaves out becomes a negative; one it keeps a sliver of is neither."""
    rows, cols = image.shape
    side = (max(2, int(round(field_mm / pixel_mm[0]))), max(2, int(round(field_mm / pixel_mm[1]))))
    body = image > BODY_LEVEL
    if body.any():
        r = np.flatnonzero(body.any(axis=1))
        c = np.flatnonzero(body.any(axis=0))
        span = ((r[0], r[-1]), (c[0], c[-1]))
    else:
        span = ((0, rows - 1), (0, cols - 1))
    centre = [rng.uniform(low + 0.25 * (high - low), high - 0.25 * (high - low)) for low, high in span]
    start = [int(round(centre[a] - side[a] / 2.0)) for a in range(2)]

    def take(plane: np.ndarray) -> np.ndarray:
        out = np.zeros(side, dtype=plane.dtype)
        r0, c0 = max(start[0], 0), max(start[1], 0)
        r1, c1 = min(start[0] + side[0], rows), min(start[1] + side[1], cols)
        if r1 > r0 and c1 > c0:
            out[r0 - start[0]:r1 - start[0], c0 - start[1]:c1 - start[1]] = plane[r0:r1, c0:c1]
        return out

    kept, lost = by_presence((target, take(mask)) for target, mask in masks.items())
    return take(image), kept, tuple(negatives) + tuple(lost)


def zoomed(items: Iterator[LabelledSlice], fields_mm: tuple[float, ...], pixel_mm: tuple[float, float],
           seed: int) -> Iterator[LabelledSlice]:
    """Each `LabelledSlice` of ``items`` cut to each field, named ``<volume>@<field>mm``."""
    rng = np.random.default_rng([seed, 7])
    for item in items:
        for field_mm in fields_mm:
            image, masks, negatives = cut(item.image, item.masks, item.negatives, field_mm, pixel_mm, rng)
            yield replace(item, volume=f"{item.volume}@{field_mm:g}mm", image=image, masks=masks, negatives=negatives)
