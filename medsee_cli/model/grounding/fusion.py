"""Scale-aware vision-language attention (in the spirit of LSMS's SVLA module).

Pixels and the target's text vector meet in three ways inside one block:
- multi-kernel depthwise convolutions (one branch per kernel size: small structures and large
  organs see context of their own scale), each branch gated channel-wise by the text;
- a spatial attention map: how well each pixel matches the text (scaled dot product);
- cross-attention from the text to the pixels, which returns a text vector updated with what
  the image holds (used downstream for the presence and box heads).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def norm(channels: int) -> nn.GroupNorm:
    groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


class ScaleAwareFusion(nn.Module):
    """(N, D, H, W) pixels + (N, D) text -> fused pixels (N, D, H, W) and updated text (N, D)."""

    def __init__(self, dim: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim) for kernel in kernels
        )
        self.gates = nn.ModuleList(nn.Linear(dim, dim) for _ in kernels)
        self.mix = nn.Sequential(nn.Conv2d(dim, dim, 1), norm(dim), nn.GELU())
        self.query = nn.Linear(dim, dim)
        self.key = nn.Conv2d(dim, dim, 1)
        self.value = nn.Conv2d(dim, dim, 1)
        self.text_out = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim))
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, pixels: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        branches = sum(
            conv(pixels) * torch.sigmoid(gate(text))[:, :, None, None]
            for conv, gate in zip(self.branches, self.gates)
        )
        query = self.query(text)  # (N, D)
        keys = self.key(pixels).flatten(2)  # (N, D, HW)
        scores = torch.einsum("nd,ndp->np", query, keys) * self.scale  # (N, HW)
        spatial = torch.sigmoid(scores).view(pixels.shape[0], 1, *pixels.shape[2:])
        fused = pixels + self.mix(branches) * spatial
        weights = F.softmax(scores, dim=-1)
        attended = torch.einsum("np,ndp->nd", weights, self.value(pixels).flatten(2))
        return fused, text + self.text_out(attended)
