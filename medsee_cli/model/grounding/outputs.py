"""What the grounding model hands the engine: encoded slices and per-(slice, text) groundings."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Features:
    """A batch of encoded slices; ``features[i]`` is item i as a batch of one."""

    embedding: torch.Tensor  # (B, 256, 64, 64) LiteMedSAM neck output
    image: torch.Tensor  # (B, 1, 256, 256) the model input (one grey channel) for the full-resolution stem

    def __len__(self) -> int:
        return int(self.embedding.shape[0])

    def __getitem__(self, index: int | slice) -> Features:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Features(self.embedding[index], self.image[index])

    def to(self, device: torch.device | str) -> Features:
        return Features(self.embedding.to(device), self.image.to(device))

    @staticmethod
    def cat(parts: list[Features]) -> Features:
        return Features(torch.cat([p.embedding for p in parts]), torch.cat([p.image for p in parts]))


@dataclass(frozen=True)
class Grounding:
    """Per slice b and text t: mask logits, a presence logit and a box.

    ``mask_logits`` are (B, T, h, w) with one logit per ``stride`` x ``stride`` block of the
    square model input (h = w = input_size / stride); ``boxes`` are (x0, y0, x1, y1) in
    model-input pixels, regressed by the box head.
    """

    mask_logits: torch.Tensor  # (B, T, h, w)
    presence_logits: torch.Tensor  # (B, T)
    boxes: torch.Tensor  # (B, T, 4)
    stride: int

    def present(self, threshold: float = 0.0) -> torch.Tensor:
        """(B, T) bool: the presence gate."""
        return self.presence_logits > threshold
