"""The trainable grounding head: text + frozen LiteMedSAM features -> mask, presence, box.

Inputs per (slice, text) pair: the 256x64x64 LiteMedSAM embedding, the 1x256x256 model input
image (for a light full-resolution stem the frozen encoder does not expose) and the 384-d text
vector. A pyramid of scale-aware fusion blocks (1/4, 1/8, 1/16 of the input) is followed by a
full-scale decoder: every decoder level sees all pyramid levels resized to its own scale
(UNet3+-style), then the stem at 1/2 scale; mask logits come out at ``input / mask_stride``.
The presence logit and the box (cx, cy, w, h as fractions of the input, regressed) come from
the text vector updated by cross-attention at every level plus mask-weighted pooled pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from medsee_cli.model.grounding.config import GroundingConfig
from medsee_cli.model.grounding.fusion import ScaleAwareFusion, norm


def conv_block(in_ch: int, out_ch: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride, 1), norm(out_ch), nn.GELU())


class GroundingHead(nn.Module):
    def __init__(self, config: GroundingConfig) -> None:
        super().__init__()
        dim, stem = config.dim, config.stem_channels
        self.config = config
        self.image_proj = nn.Sequential(nn.Conv2d(config.embedding_channels, dim, 1), norm(dim), nn.GELU())
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.down = nn.ModuleList(conv_block(dim, dim, stride=2) for _ in range(config.levels - 1))
        self.fusions = nn.ModuleList(ScaleAwareFusion(dim, config.kernels) for _ in range(config.levels))
        self.full_scale = nn.Sequential(nn.Conv2d(dim * config.levels, dim, 1), norm(dim), nn.GELU())
        self.stem = nn.Sequential(conv_block(1, stem // 2, stride=2), conv_block(stem // 2, stem))
        self.stem_gate = nn.Linear(dim, stem)
        self.reduce = nn.Conv2d(dim, stem, 1)
        self.fine = nn.Sequential(conv_block(2 * stem, stem), nn.Conv2d(stem, 1, 1))
        self.coarse = nn.Conv2d(dim, 1, 1)
        self.presence = nn.Sequential(nn.Linear(3 * dim, dim), nn.GELU(), nn.Linear(dim, 1))
        self.box = nn.Sequential(nn.Linear(3 * dim, dim), nn.GELU(), nn.Linear(dim, 4))

    def forward(
        self, embedding: torch.Tensor, image: torch.Tensor, text: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pairs: embedding (N,256,64,64), image (N,1,256,256), text (N,384) ->
        mask logits (N, S/stride, S/stride), presence logits (N,), boxes (N, 4) x0,y0,x1,y1 in input pixels."""
        t = self.text_proj(text)
        x = self.image_proj(embedding)
        pyramid = []
        summaries = []
        for level, fusion in enumerate(self.fusions):
            if level > 0:
                x = self.down[level - 1](x)
            x, t_level = fusion(x, t)
            pyramid.append(x)
            summaries.append(t_level)
        side = pyramid[0].shape[-1]
        resized = [p if p.shape[-1] == side else F.interpolate(p, size=(side, side), mode="bilinear", align_corners=False) for p in pyramid]
        decoded = self.full_scale(torch.cat(resized, dim=1)) + pyramid[0]
        coarse = self.coarse(decoded)  # (N, 1, 64, 64)
        stem = self.stem(image) * torch.sigmoid(self.stem_gate(t))[:, :, None, None]
        up = F.interpolate(self.reduce(decoded), size=stem.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.fine(torch.cat([up, stem], dim=1)) + F.interpolate(coarse, size=stem.shape[-2:], mode="bilinear", align_corners=False)
        weights = torch.sigmoid(coarse).flatten(2)  # (N, 1, HW)
        pooled = (decoded.flatten(2) * weights).sum(-1) / weights.sum(-1).clamp(min=1.0)
        summary = torch.cat([summaries[-1] + summaries[0], pooled, t], dim=1)
        presence = self.presence(summary)[:, 0]
        boxes = self._boxes(self.box(summary))
        return logits[:, 0], presence, boxes

    def _boxes(self, raw: torch.Tensor) -> torch.Tensor:
        size = float(self.config.image_size)
        centre = torch.sigmoid(raw[:, :2]) * size
        extent = torch.sigmoid(raw[:, 2:]) * size
        return torch.cat([centre - extent / 2, centre + extent / 2], dim=1).clamp(0.0, size)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
