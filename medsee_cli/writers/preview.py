"""Preview PNG: for each target, the slice where it is largest, windowed, overlaid, boxed, labelled.

Slices are shown in the radiological convention whatever the grid's orientation: patient right
on the image's left and anterior (or superior) at the top, with square millimetres.
"""

from __future__ import annotations

import functools
import io
import os
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageFont

from medsee_cli.io.atomic import write_bytes_atomic
from medsee_cli.io.plane_view import plane_view
from medsee_cli.io.volume import Volume
from medsee_cli.writers.labels import Label, LabelTable

PANEL_PX = 384
COLUMNS = 3
ALPHA = 0.4


@functools.lru_cache(maxsize=1)
def _windows() -> dict[str, dict[str, float]]:
    text = resources.files("medsee_cli.writers").joinpath("data/display.yaml").read_text()
    return dict(yaml.safe_load(text)["windows"])


def window(plane: np.ndarray, modality: str) -> np.ndarray:
    """A slice as uint8 grey levels: the modality's window, or the 1st-99th percentile."""
    plane = plane.astype(np.float32)
    spec = _windows().get(modality.upper())
    if spec is not None:
        lo, hi = spec["centre"] - spec["width"] / 2, spec["centre"] + spec["width"] / 2
    else:
        lo, hi = (float(v) for v in np.percentile(plane, [1, 99])) if plane.size else (0.0, 1.0)
    scaled = (plane - lo) / max(hi - lo, 1e-6)
    return (np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _panel(grey: np.ndarray, mask: np.ndarray, label: Optional[Label], pixel_mm: tuple[float, float],
           caption: str, left_edge: str = "R") -> Image.Image:
    rows, cols = grey.shape
    h_mm, w_mm = rows * pixel_mm[0], cols * pixel_mm[1]
    scale = PANEL_PX / max(h_mm, w_mm)
    size = (max(1, round(w_mm * scale)), max(1, round(h_mm * scale)))
    base = np.repeat(grey[:, :, None], 3, axis=2).astype(np.float32)
    colour = np.array(label.colour if label and label.colour else (255, 0, 0), np.float32)
    if mask.any():
        base[mask] = (1 - ALPHA) * base[mask] + ALPHA * colour
    image = Image.fromarray(base.astype(np.uint8), "RGB").resize(size, Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    if mask.any():
        r, c = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        sy, sx = size[1] / rows, size[0] / cols
        box = (c[0] * sx, r[0] * sy, (c[-1] + 1) * sx - 1, (r[-1] + 1) * sy - 1)
        draw.rectangle(box, outline=tuple(int(v) for v in colour), width=2)
    font = _font(14)
    draw.rectangle((0, 0, size[0], 20), fill=(0, 0, 0))
    draw.text((4, 3), caption, fill=(255, 255, 255), font=font)
    draw.text((4, size[1] - 18), left_edge, fill=(255, 255, 0), font=font)
    return image


def _largest_slice(labelmap: np.ndarray, value: int) -> tuple[int, int]:
    counts = (labelmap == value).sum(axis=(0, 1))
    k = int(np.argmax(counts))
    return k, int(counts[k])


def render_preview(volume: Volume, labelmap: np.ndarray, table: LabelTable, modality: str, *,
                   has_image: bool = True) -> Image.Image:
    """One panel per target present (its largest slice), or the middle slice when none is.

    ``modality`` is the run's decision (CT: the abdomen window); ``has_image`` False: ``volume``
    is only the grid, and the masks are drawn on black. Reads one slice per panel."""
    table = table.with_colours()
    view = plane_view(volume.affine)  # the radiological view the model and eval's overlays use too
    apply, pixel_mm, left = view.to_display, view.pixel_mm, view.left_edge

    def plane(k: int) -> np.ndarray:
        if not has_image:
            return np.zeros(labelmap.shape[:2], np.uint8)
        return np.asarray(volume.slab(k, k + 1)[:, :, 0])

    panels = []
    for label in table:
        k, count = _largest_slice(labelmap, label.value)
        if count == 0:
            continue
        # The finding's own volume when known (a smaller finding painted over it hides part of it).
        ml = label.volume_ml if label.volume_ml is not None else float((labelmap == label.value).sum()) * volume.voxel_volume_ml
        caption = f"{label.name}  {ml:.1f} mL  slice {k}"
        panels.append(_panel(window(apply(plane(k)), modality), apply(labelmap[:, :, k] == label.value),
                             label, pixel_mm, caption, left))
    if not panels:
        k = labelmap.shape[2] // 2
        panels.append(_panel(window(apply(plane(k)), modality), np.zeros(apply(plane(k)).shape, bool),
                             None, pixel_mm, "no target found", left))
    ncols = min(COLUMNS, len(panels))
    nrows = -(-len(panels) // ncols)
    cell_w, cell_h = max(p.width for p in panels), max(p.height for p in panels)
    sheet = Image.new("RGB", (ncols * cell_w, nrows * cell_h), (0, 0, 0))
    for n, panel in enumerate(panels):
        sheet.paste(panel, ((n % ncols) * cell_w, (n // ncols) * cell_h))
    return sheet


def write_preview(volume: Volume, labelmap: np.ndarray, table: LabelTable, target: str | os.PathLike[str],
                  modality: str, *, overwrite: bool, has_image: bool = True) -> Path:
    buffer = io.BytesIO()
    render_preview(volume, labelmap, table, modality, has_image=has_image).save(buffer, format="PNG", optimize=False)
    write_bytes_atomic(target, buffer.getvalue(), overwrite=overwrite)
    return Path(target)
