"""Slice -> LiteMedSAM input, and model logits -> slice-sized logits.

The recipe that scored best here (see DESIGN.md): window -> uint8 -> 3 channels -> resize the
longest side to 256 (aspect kept) -> min-max to [0, 1] -> zero-pad to 256x256 at the bottom and
right. Boxes are scaled by the same factors; logits are cropped to the unpadded part and resized
back to the slice. Images are (rows, columns); boxes are (x0, y0, x1, y1) = (col, row, col, row).

The aspect kept is the patient's, not the pixel grid's: given the pixel size (row height, column
width), a slice of non-square pixels (a 512 x 512 matrix over a 366 x 303 mm field, a rectangular
MR field of view) is resized to its physical proportions, as every training slice was (their
pixels are square), so organs keep their shapes. Square pixels give exactly the old geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from collections.abc import Iterable
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from medsee_cli.errors import InputError


@dataclass(frozen=True)
class Window:
    """Intensities mapped linearly from [low, high] onto 0..255 (clipped outside)."""

    low: float
    high: float

    @classmethod
    def from_width_level(cls, width: float, level: float) -> Window:
        return cls(level - width / 2.0, level + width / 2.0)


@lru_cache(maxsize=1)
def _window_table() -> dict[str, Any]:
    text = resources.files("medsee_cli.model").joinpath("windows.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def ct_window(preset: str | None = None) -> Window:
    table = _window_table()
    name = preset or table["ct_default"]
    if name not in table["ct_presets"]:
        raise InputError(f"window preset {name!r}", f"unknown (known: {', '.join(table['ct_presets'])})")
    entry = table["ct_presets"][name]
    return Window.from_width_level(float(entry["width"]), float(entry["level"]))


def window_for(modality: str, values: np.ndarray | None = None, preset: str | None = None) -> Window:
    """The window for a modality: a CT preset, else percentiles of ``values`` (volume or slice)."""
    if modality.upper() == "CT":
        return ct_window(preset)
    if values is None:
        raise ValueError(f"a {modality} window needs the intensities to take percentiles of")
    low_pct, high_pct = _window_table()["percentiles"]
    finite = np.asarray(values, dtype=np.float32)
    low, high = np.percentile(finite[np.isfinite(finite)], [low_pct, high_pct])
    return Window(float(low), float(high))


def to_uint8(slice2d: np.ndarray, window: Window) -> np.ndarray:
    span = max(window.high - window.low, 1e-6)
    scaled = (np.asarray(slice2d, dtype=np.float32) - window.low) * (255.0 / span)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Geometry:
    """How a slice of ``original`` (rows, cols) sits inside the square model input: model-input
    pixels per slice pixel are ``scale`` down the rows and ``scale_cols`` across the columns."""

    original: tuple[int, int]
    resized: tuple[int, int]
    scale: float
    size: int
    scale_cols: Optional[float] = None  # None: square pixels, ``scale`` both ways

    @property
    def scales(self) -> tuple[float, float]:
        """(down the rows, across the columns)."""
        return (self.scale, self.scale if self.scale_cols is None else self.scale_cols)


# pixels whose height and width differ by less than this share count as square
SQUARE = 0.01


def geometry_for(shape: tuple[int, int], size: int = 256, pixel_mm: Optional[tuple[float, float]] = None,
                 min_field_mm: float = 0.0) -> Geometry:
    """Where a (rows, cols) slice goes in the model input; ``pixel_mm`` (row height, column width)
    keeps the slice's physical proportions when its pixels are not square. ``min_field_mm``
    (with ``pixel_mm``): a slice whose longest side spans less is shown as if it spanned that
    much (the rest of the input is padding), so a zoomed reconstruction (a 180 mm field of the
    mediastinum, a 160 mm field around a lesion) keeps the organ sizes of a whole-body field."""
    rows, cols = int(shape[0]), int(shape[1])
    height, width = (1.0, 1.0) if pixel_mm is None else (float(pixel_mm[0]), float(pixel_mm[1]))
    if not (height > 0 and width > 0):
        height, width, pixel_mm = 1.0, 1.0, None
    field = min_field_mm if pixel_mm is not None else 0.0
    longest = max(rows * height, cols * width, field)
    if abs(height - width) <= SQUARE * max(height, width):
        scale = size / max(rows, cols, field / height)
        resized = (max(1, int(rows * scale + 0.5)), max(1, int(cols * scale + 0.5)))
        return Geometry((rows, cols), resized, scale, size)
    scale_rows, scale_cols = size * height / longest, size * width / longest
    resized = (min(size, max(1, int(rows * scale_rows + 0.5))), min(size, max(1, int(cols * scale_cols + 0.5))))
    return Geometry((rows, cols), resized, scale_rows, size, scale_cols)


# A zoomed reconstruction cuts through the body: its border runs through tissue, where a whole-body
# field (or a head in its field) has air around the body. 8-bit windowed values above BODY_LEVEL
# count as tissue (CT's default window: above about -150 HU, so fat counts and air and lung do not).
BODY_LEVEL = 8
CUT_SHARE = 0.3  # a border at least this much tissue is a zoomed field


def cuts_body(planes_u8: Iterable[np.ndarray]) -> bool:
    """Whether windowed slices (an ``(n, rows, cols)`` array or any iterable of ``(rows, cols)``
    slices, read one at a time) show a field that cuts through the body: the median slice's
    border is at least `CUT_SHARE` tissue."""
    shares = [float(np.mean(np.concatenate([p[0], p[-1], p[:, 0], p[:, -1]]) > BODY_LEVEL)) for p in planes_u8]
    return bool(shares) and bool(np.median(shares) >= CUT_SHARE)


def image_tensor(image_u8: np.ndarray, size: int = 256, pixel_mm: Optional[tuple[float, float]] = None,
                 min_field_mm: float = 0.0) -> tuple[torch.Tensor, Geometry]:
    """An 8-bit (rows, cols) image -> (1, 3, size, size) float tensor in [0, 1] and its geometry
    (``pixel_mm``, ``min_field_mm``: see `geometry_for`)."""
    if image_u8.ndim != 2:
        raise ValueError(f"expected a 2D slice, got shape {image_u8.shape}")
    geometry = geometry_for(image_u8.shape, size, pixel_mm, min_field_mm)
    pixels = torch.from_numpy(np.ascontiguousarray(image_u8, dtype=np.float32))[None, None]
    resized = F.interpolate(pixels, size=geometry.resized, mode="bilinear", align_corners=False, antialias=True)
    low, high = resized.min(), resized.max()
    resized = (resized - low) / torch.clamp(high - low, min=1e-8)
    padded = F.pad(resized, (0, size - geometry.resized[1], 0, size - geometry.resized[0]))
    return padded.expand(1, 3, size, size).contiguous(), geometry


def scale_boxes(boxes: np.ndarray, geometry: Geometry) -> torch.Tensor:
    """(N, 4) boxes in slice pixels -> (N, 4) float tensor in model-input pixels."""
    array = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    rows, cols = geometry.scales
    return torch.from_numpy(array * np.array([cols, rows, cols, rows], dtype=np.float32))


def restore_logits(logits: torch.Tensor, geometry: Geometry) -> torch.Tensor:
    """(N, 1, S, S) model logits -> (N, rows, cols) float32 logits on the slice grid."""
    rows, cols = geometry.resized
    cropped = logits[:, :, :rows, :cols].float()
    return F.interpolate(cropped, size=geometry.original, mode="bilinear", align_corners=False)[:, 0]
