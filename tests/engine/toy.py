"""A tiny grounding model for engine tests: it "finds" voxels brighter than a level.

It implements the engine's model interface with plain torch ops, so the engine's scheduling,
batching, prefetching and assembly can be checked against a known answer; it also counts the
slices it encoded and can raise the out-of-memory error above a batch size.
"""

from __future__ import annotations

import threading

import numpy as np
import torch
import torch.nn.functional as F

from medsee_cli.model.grounding.outputs import Grounding
from medsee_cli.model.preprocess import geometry_for, restore_logits

SIZE = 64
STRIDE = 2


def vectors(names: list[str]) -> np.ndarray:
    """The toy's "text vectors": the level a target name stands for, in every component
    (``"bright"`` = 500, anything else = 1500). Pass them to `SliceEngine.run`."""
    levels = [500.0 if t == "bright" else 1500.0 for t in names]
    return np.repeat(np.asarray(levels, dtype=np.float32)[:, None], 384, axis=1)


class BrightModel:
    """Target ``"bright"`` = voxels above 500; anything else = voxels above 1500 (see `vectors`)."""

    text_encoder = "toy-levels"
    trained_targets: tuple[str, ...] = ()

    def __init__(self, context_slices: int = 0, oom_above: int | None = None, size: int = SIZE) -> None:
        self.input_size = size
        self.context_slices = context_slices
        self.oom_above = oom_above
        self.gates: dict[str, float] = {}  # calibrated presence logits per target (default 0)
        self.encoded: list[int] = []  # batch sizes that reached encode()
        self.prepare_threads: set[str] = set()
        self.prepared_shapes: list[tuple[int, ...]] = []
        self.pixel_mm_seen: set = set()  # the display pixel sizes prepare() was given

    def presence_logit(self, target: str) -> float:
        return self.gates.get(target, 0.0)

    confidence_map = None  # tests that need one set it on the instance

    def prepare(self, slices: np.ndarray, modality: str, window=None, pixel_mm=None, zoomed=False):
        self.prepare_threads.add(threading.current_thread().name)
        self.prepared_shapes.append(tuple(slices.shape))
        self.pixel_mm_seen.add(pixel_mm)
        centre = slices[..., self.context_slices] if slices.ndim == 4 else slices
        pixels = torch.from_numpy(np.ascontiguousarray(centre, dtype=np.float32))[:, None]
        size = self.input_size
        geometry = geometry_for(centre.shape[1:], size, pixel_mm)
        resized = F.interpolate(pixels, size=geometry.resized, mode="area")
        padded = F.pad(resized, (0, size - geometry.resized[1], 0, size - geometry.resized[0]), value=-1000.0)
        return padded, [geometry] * len(centre)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        if self.oom_above is not None and images.shape[0] > self.oom_above:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        self.encoded.append(int(images.shape[0]))
        return images.float()

    def ground(self, features: torch.Tensor, text: torch.Tensor) -> Grounding:
        levels = text[:, 0]
        small = F.avg_pool2d(features, STRIDE)  # (B, 1, h, w)
        logits = (small - levels[None, :, None, None]) / 50.0  # (B, T, h, w)
        presence = logits.amax(dim=(2, 3)) * 4.0
        boxes = torch.zeros(*presence.shape, 4)
        boxes[..., 2:] = self.input_size
        return Grounding(logits, presence, boxes, STRIDE)

    def refine(self, features: torch.Tensor, index: int, boxes: torch.Tensor) -> torch.Tensor:
        image = features[index, 0]
        size = self.input_size
        out = torch.full((len(boxes), size, size), -10.0)
        for n, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
            out[n, y0:y1 + 1, x0:x1 + 1] = (image[y0:y1 + 1, x0:x1 + 1] - 500.0) / 50.0
        return out

    def to_slice(self, logits: torch.Tensor, geometry) -> np.ndarray:
        lead = logits.shape[:-2]
        side = logits.shape[-1]
        flat = logits.reshape(-1, 1, side, side)
        if side != self.input_size:
            flat = F.interpolate(flat, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return (restore_logits(flat, geometry) > 0).reshape(*lead, *geometry.original).numpy()
