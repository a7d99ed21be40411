"""What a dataset hands the evaluator: items that load their image, target mask and box on demand.

Array conventions (stated once): a 2D item's arrays are ``[row, col]`` (PNG order) with
``spacing = (row_mm, col_mm)`` and boxes ``(x0, y0, x1, y1)`` in pixel edges (x = column). A 3D
item's arrays are ``[i, j, k]`` like `medsee_cli.io.Volume`, with ``spacing = (si, sj, sk)`` and
boxes ``(i0, j0, k0, i1, j1, k1)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_id(text: str) -> str:
    """An item id usable as a file name (prediction files are looked up by it)."""
    cleaned = _UNSAFE.sub("_", text).strip("._")
    return cleaned or "item"


@dataclass(frozen=True)
class Sample:
    """The loaded arrays of one item."""

    image: np.ndarray
    target: np.ndarray  # bool, same shape as image (without colour channels)
    spacing: tuple[float, ...]
    box: tuple[float, ...] | None = None  # the dataset's own target box, if it has one
    spacing_known: bool = True  # False: spacing is 1 per pixel (PNG without metadata)
    window: tuple[float, float] | None = None  # (centre, width) for display, if known

    def __post_init__(self) -> None:
        spatial = self.image.shape[: self.target.ndim]
        if spatial != self.target.shape:
            raise ValueError(f"image shape {self.image.shape} does not match mask shape {self.target.shape}")
        if len(self.spacing) != self.target.ndim:
            raise ValueError(f"{len(self.spacing)} spacings for a {self.target.ndim}D mask")


@dataclass(frozen=True)
class EvalItem:
    """One (image, referring expression, target) triple of a dataset."""

    item_id: str
    case_id: str
    target: str
    text: str
    ndim: int
    load: Callable[[], Sample] = field(repr=False, compare=False)
    split: str = "test"
    source: str = ""  # file or line the item came from, for error messages


@dataclass(frozen=True)
class Dataset:
    """A named list of items with a note on where its labels come from."""

    name: str
    items: tuple[EvalItem, ...]
    notes: tuple[str, ...] = ()
    root: str = ""
