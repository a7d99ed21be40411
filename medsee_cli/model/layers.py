"""Small building blocks shared by the LiteMedSAM parts.

Attribute names follow the published checkpoint so that its state dict loads strictly.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBN(nn.Sequential):
    """A bias-free convolution followed by batch norm (children ``c`` and ``bn``)."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(out_ch))


class LayerNorm2d(nn.Module):
    """Layer norm over the channel axis of a (B, C, H, W) tensor."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        normed = (x - mean) * torch.rsqrt(var + self.eps)
        return normed * self.weight[:, None, None] + self.bias[:, None, None]


class ReluMLP(nn.Module):
    """``depth`` linear layers (child list ``layers``) with ReLU between them."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, depth: int) -> None:
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (depth - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < last:
                x = torch.relu(x)
        return x
