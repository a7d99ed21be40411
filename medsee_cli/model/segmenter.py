"""`BoxPromptSegmenter`: built once, embeds a slice once, then segments any number of boxes on it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from medsee_cli.model.litemedsam import LiteMedSAM
from medsee_cli.model.preprocess import Geometry, Window, image_tensor, restore_logits, scale_boxes, to_uint8, window_for


@dataclass(frozen=True)
class SegmenterOptions:
    """How to run the model.

    ``bf16`` runs encoder and decoder under bfloat16 autocast (CPU or CUDA): about 2x faster on
    a CPU with bf16 support, masks agreeing with fp32 at Dice ~0.99. ``threads`` sets torch's
    intra-op thread count for this process when given. ``modality`` picks the default window
    for slices that are not already 8-bit.
    """

    checkpoint: str = "litemedsam-base"
    model_home: Path | None = None
    device: str = "cpu"
    bf16: bool = False
    threads: int | None = None
    modality: str = "CT"
    window_preset: str | None = None
    mask_threshold: float = 0.0  # on logits; 0.0 is probability 0.5


@dataclass(frozen=True)
class SliceEmbedding:
    """The encoder output for one slice plus where that slice sits in the model input."""

    features: torch.Tensor  # (1, 256, 64, 64) on the segmenter's device
    geometry: Geometry


@dataclass(frozen=True)
class BoxMasks:
    """One mask per box, on the slice grid."""

    masks: np.ndarray  # (N, rows, cols) bool
    logits: np.ndarray  # (N, rows, cols) float32
    predicted_iou: np.ndarray  # (N,) float32: the decoder's own estimate of each mask's IoU

    def union(self) -> np.ndarray:
        return np.asarray(self.masks.any(axis=0))


class BoxPromptSegmenter:
    def __init__(self, options: SegmenterOptions | None = None, model: LiteMedSAM | None = None) -> None:
        """Load the named checkpoint (verified, strict), or wrap an already loaded ``model``."""
        self.options = options or SegmenterOptions()
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        if model is None:
            from medsee_cli.model.pretrained import load_checkpoint

            model = load_checkpoint(self.options.checkpoint, self.options.model_home).model
        self.device = torch.device(self.options.device)
        self.model = model.to(self.device).eval()

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        with torch.inference_mode(), torch.autocast(
            device_type=self.device.type, dtype=torch.bfloat16, enabled=self.options.bf16
        ):
            yield

    def image_for(self, slice2d: np.ndarray, window: Window | None = None) -> np.ndarray:
        """The 8-bit image the model sees: uint8 slices pass through, others are windowed."""
        if slice2d.dtype == np.uint8 and window is None:
            return slice2d
        if window is None:
            window = window_for(self.options.modality, slice2d, self.options.window_preset)
        return to_uint8(slice2d, window)

    def embed(self, slice2d: np.ndarray, window: Window | None = None) -> SliceEmbedding:
        """Encode one (rows, cols) slice. For MR pass a window computed over the whole volume."""
        pixels, geometry = image_tensor(self.image_for(slice2d, window), self.model.config.image_size)
        with self._running():
            features = self.model.embed(pixels.to(self.device))
        return SliceEmbedding(features, geometry)

    def segment(self, embedding: SliceEmbedding, boxes: np.ndarray) -> BoxMasks:
        """Boxes (N, 4) as (x0, y0, x1, y1) in slice pixels (x = column, y = row) -> N masks."""
        scaled = scale_boxes(boxes, embedding.geometry).to(self.device)
        if scaled.shape[0] == 0:
            rows, cols = embedding.geometry.original
            return BoxMasks(np.zeros((0, rows, cols), bool), np.zeros((0, rows, cols), np.float32), np.zeros(0, np.float32))
        with self._running():
            logits, iou = self.model.decode_boxes(embedding.features, scaled)
        restored = restore_logits(logits.float(), embedding.geometry).cpu().numpy()
        return BoxMasks(restored > self.options.mask_threshold, restored, iou[:, 0].float().cpu().numpy())
