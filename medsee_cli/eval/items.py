"""What a dataset hands the evaluator: items that load their image, target mask and box on demand.

Array conventions (stated once): a 2D item's arrays are ``[row, col]`` (PNG order) with
``spacing = (row_mm, col_mm)`` and boxes ``(x0, y0, x1, y1)`` in pixel edges (x = column). A 3D
item's arrays are ``[i, j, k]`` like `medsee_cli.io.Volume`, with ``spacing = (si, sj, sk)`` and
boxes ``(i0, j0, k0, i1, j1, k1)``.

Orientation is explicit: ``Sample.affine`` maps voxel ``(i, j, k)`` of a 3D item, or
``(row, col, 0)`` of a 2D item, to RAS+ millimetres (as `medsee_cli.io.Volume.affine` does);
``None`` says the orientation is unknown (a PNG without geometry: it may be any of the 8
flips/rotations of the radiological view). A 2D item cut from a case volume says where
(``EvalItem.cut``); its picture is always `plane_of` that volume.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def plane_of(volume: np.ndarray, k: int) -> np.ndarray:
    """Slice ``k`` of a ``[i, j, k]`` case array as a 2D item's ``[row, col]`` array (rows = j)."""
    return np.asarray(volume)[:, :, k].T


def plane_affine(affine: np.ndarray, k: int) -> np.ndarray:
    """The affine of `plane_of`'s ``(row, col, 0)`` grid, from the case volume's ``affine``."""
    cut = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, float(k)], [0.0, 0.0, 0.0, 1.0]])
    return np.asarray(affine, dtype=np.float64) @ cut


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
    affine: np.ndarray | None = field(default=None, repr=False, compare=False)  # None: orientation unknown

    def __post_init__(self) -> None:
        spatial = self.image.shape[: self.target.ndim]
        if spatial != self.target.shape:
            raise ValueError(f"image shape {self.image.shape} does not match mask shape {self.target.shape}")
        if len(self.spacing) != self.target.ndim:
            raise ValueError(f"{len(self.spacing)} spacings for a {self.target.ndim}D mask")

    def grey(self) -> np.ndarray:
        """The image without colour channels (their mean), on the target's grid."""
        image = np.asarray(self.image)
        return image.mean(axis=-1) if image.ndim == self.target.ndim + 1 else image


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
    cut: int | None = None  # a 2D item cut from its case's volume: the slice index k (see `plane_of`)
    origin: str = ""  # the image file, relative to the shared data folder, when the item comes from there


@dataclass(frozen=True)
class Dataset:
    """A named list of items with a note on where its labels come from."""

    name: str
    items: tuple[EvalItem, ...]
    notes: tuple[str, ...] = ()
    root: str = ""
