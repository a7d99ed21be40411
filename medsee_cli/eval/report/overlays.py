"""Worst-case overlays as PNG: the image in grey, target-only pixels green, prediction-only red,
agreement yellow. Small images are enlarged (nearest neighbour) so single pixels stay visible."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsee_cli.eval.scoring import View

MIN_SIDE = 256
GREEN, RED, YELLOW = (0, 200, 0), (230, 0, 0), (240, 220, 0)
ALPHA = 0.55


def _to_grey(image: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    image = image.astype(np.float32)
    if window is not None:
        low, high = window[0] - window[1] / 2.0, window[0] + window[1] / 2.0
    else:
        low, high = (float(v) for v in np.percentile(image, [1, 99])) if image.size else (0.0, 1.0)
    scale = max(high - low, 1e-6)
    return (np.clip((image - low) / scale, 0.0, 1.0) * 255.0).astype(np.uint8)


def overlay_rgb(view: View) -> np.ndarray:
    grey = _to_grey(view.image, view.window)
    rgb = np.repeat(grey[:, :, None], 3, axis=2).astype(np.float32)
    for region, colour in (
        (view.target & ~view.predicted, GREEN),
        (view.predicted & ~view.target, RED),
        (view.target & view.predicted, YELLOW),
    ):
        rgb[region] = (1 - ALPHA) * rgb[region] + ALPHA * np.array(colour, dtype=np.float32)
    return rgb.astype(np.uint8)


def write_overlay(view: View, target: Path) -> None:
    from PIL import Image

    from medsee_cli.io.atomic import atomic_path

    picture = Image.fromarray(overlay_rgb(view))
    factor = max(1, int(np.ceil(MIN_SIDE / max(1, min(picture.size)))))
    if factor > 1:
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)
    with atomic_path(target) as tmp:
        picture.save(tmp, format="PNG")
