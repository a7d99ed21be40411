"""SAM prompt encoder, box prompts only (the checkpoint's point and mask parts load but are unused).

A box (x0, y0, x1, y1) in input-image pixels becomes two tokens: random-Fourier position
codes of its corners plus a learned "top-left" / "bottom-right" embedding. With no mask prompt
the dense prompt is one learned vector broadcast over the embedding grid.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.layers import LayerNorm2d


class FourierPositions(nn.Module):
    """Position code of points in [0, 1]^2: sin/cos of a fixed random projection."""

    positional_encoding_gaussian_matrix: torch.Tensor  # a buffer (saved with the weights, not trained)

    def __init__(self, features: int) -> None:
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, features))

    def encode(self, unit_xy: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * ((2 * unit_xy - 1) @ self.positional_encoding_gaussian_matrix)
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)

    def grid(self, side: int) -> torch.Tensor:
        """(C, side, side) code of the pixel centres of a square grid."""
        centres = (torch.arange(side, dtype=torch.float32, device=self.positional_encoding_gaussian_matrix.device) + 0.5) / side
        ys, xs = torch.meshgrid(centres, centres, indexing="ij")
        return self.encode(torch.stack([xs, ys], dim=-1)).permute(2, 0, 1)


class PromptEncoder(nn.Module):
    def __init__(self, config: MedseeModelConfig) -> None:
        super().__init__()
        dim = config.prompt_embed_dim
        self.image_size = config.image_size
        self.embedding_size = config.embedding_size
        self.pe_layer = FourierPositions(dim // 2)
        # 0/1: negative/positive point, 2/3: box corners (top-left, bottom-right).
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, dim) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, dim)
        chans = config.mask_in_chans
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, chans // 4, kernel_size=2, stride=2),
            LayerNorm2d(chans // 4),
            nn.GELU(),
            nn.Conv2d(chans // 4, chans, kernel_size=2, stride=2),
            LayerNorm2d(chans),
            nn.GELU(),
            nn.Conv2d(chans, dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, dim)

    def dense_positions(self) -> torch.Tensor:
        """(1, C, E, E) position code of the image embedding grid."""
        return self.pe_layer.grid(self.embedding_size).unsqueeze(0)

    def _point(self, n: int) -> torch.Tensor:
        """The learned embedding of point kind ``n`` (2: a box's top-left corner, 3: its bottom-right)."""
        return cast(nn.Embedding, self.point_embeddings[n]).weight[0]

    def embed_boxes(self, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes (N, 4) in input pixels -> sparse (N, 2, C) and dense (N, C, E, E) prompts."""
        corners = (boxes.float() + 0.5).reshape(-1, 2, 2) / self.image_size
        sparse = self.pe_layer.encode(corners)
        sparse = torch.stack(
            [sparse[:, 0] + self._point(2), sparse[:, 1] + self._point(3)],
            dim=1,
        )
        side = self.embedding_size
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(boxes.shape[0], -1, side, side)
        return sparse, dense
