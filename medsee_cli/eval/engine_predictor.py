"""``eval --model``: the slice engine `ask` and `segment` run, as an evaluation `Predictor`.

There is one inference path: this wraps `SliceEngine` (its gates, passes and modality rule) and
the engine's own findings, adding only what an evaluation item needs:

- a 3D item ``[i, j, k]`` is a volume on a RAS+ voxel grid (as medsee's readers return it);
- a 2D item ``[row, col]`` (colour channels averaged to grey) is one slice already in the
  radiological display orientation: it becomes a one-slice volume whose affine puts rows
  anterior -> posterior and columns the patient's right -> left, so the engine's view of it is
  the picture itself (`DISPLAY_AFFINE`);
- the item's text is a knowledge-base target name or a free referring expression, encoded with
  the sentence encoder the model was trained with (`reasoning.target_text`).

Boxes are pixel edges: (x0, y0, x1, y1) in 2D, (i0, j0, k0, i1, j1, k1) in 3D.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from medsee_cli.engine.findings import find
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.eval.metrics.boxes import box_from_mask
from medsee_cli.io.volume import Volume
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.target_text import TargetTexts

# voxel (row, col, 0) -> RAS+: rows run towards posterior (-y), columns towards the patient's left (-x)
DISPLAY_AFFINE = np.array([[0.0, -1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
FREE_TEXT = "prompt"


def item_volume(image: np.ndarray) -> tuple[Volume, bool]:
    """An evaluation item's image as the volume the engine streams (see the module docstring),
    and whether the item is 2D."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] in (3, 4) and image.dtype == np.uint8:
        image = image[..., :3].mean(axis=-1).round().astype(np.uint8)
    if image.ndim == 2:
        return Volume(np.ascontiguousarray(image)[:, :, None], DISPLAY_AFFINE), True
    if image.ndim == 3:
        return Volume(image, np.eye(4)), False
    raise ValueError(f"an evaluation image must be 2D or 3D, got shape {image.shape}")


class EnginePredictor:
    """``predict(image, text) -> (mask, box)`` through ``engine`` with ``texts``' vectors."""

    def __init__(self, engine: SliceEngine, texts: TargetTexts) -> None:
        self.engine = engine
        self.texts = texts
        self.known = set(load_knowledge().names())

    def predict(self, image: np.ndarray, text: str) -> tuple[np.ndarray, Optional[tuple[float, ...]]]:
        volume, flat = item_volume(image)
        name = text.strip() if text.strip() in self.known else FREE_TEXT
        (found,), _ = find(self.engine, volume, [name], self.texts.vectors([text.strip()]))
        mask = np.zeros(volume.spatial_shape, dtype=bool)
        if found.present and found.region is not None:
            found.region.paint(mask, True)
        if flat:
            mask = mask[:, :, 0]
        return mask, box_from_mask(mask)


def load_predictor(spec: str) -> EnginePredictor:
    """``spec``: a registry name (``medsee-grounding-v1``) or a saved grounding-model folder,
    run by the same engine and default options `ask` uses."""
    from medsee_cli.engine.loading import open_engine
    from medsee_cli.reasoning.target_text import open_target_texts

    engine = open_engine(spec)
    return EnginePredictor(engine, open_target_texts(engine.model.text_encoder))
