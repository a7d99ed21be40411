"""TinyViT-5M image encoder as LiteMedSAM uses it: 3x256x256 image -> 256x64x64 embedding.

Stage 0 is convolutional (MBConv blocks) at full resolution; stages 1-3 are windowed
self-attention blocks with a learned relative-position bias, each followed by a depthwise
"local" convolution and an MLP. Patch-merging convolutions between stages halve the
resolution (stride 2, 2, then 1). A SAM-style neck maps the last stage to 256 channels.
Attribute names match the LiteMedSAM checkpoint (``image_encoder.*``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.layers import ConvBN, LayerNorm2d


class PatchEmbed(nn.Module):
    """Two pointwise conv+BN layers (stride 1): 3 -> dim/2 -> dim channels."""

    def __init__(self, in_ch: int, dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(ConvBN(in_ch, dim // 2), nn.GELU(), ConvBN(dim // 2, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual: expand (1x1), depthwise 3x3, project (1x1), add, GELU."""

    def __init__(self, dim: int, expand_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * expand_ratio)
        self.conv1 = ConvBN(dim, hidden)
        self.conv2 = ConvBN(hidden, hidden, kernel=3, groups=hidden)
        self.conv3 = ConvBN(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.conv1(x))
        y = F.gelu(self.conv2(y))
        return F.gelu(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """Pointwise, depthwise 3x3 (with stride), pointwise; returns tokens (B, H*W, C)."""

    def __init__(self, resolution: int, dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.conv1 = ConvBN(dim, out_dim)
        self.conv2 = ConvBN(out_dim, out_dim, kernel=3, stride=stride, groups=out_dim)
        self.conv3 = ConvBN(out_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:  # tokens -> feature map
            x = x.transpose(1, 2).reshape(x.shape[0], -1, self.resolution, self.resolution)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        x = self.conv3(x)
        return x.flatten(2).transpose(1, 2)


def relative_offset_index(window: int) -> torch.Tensor:
    """(N, N) index into the per-head bias table, N = window**2 (row-major tokens).

    Two tokens at (y1, x1) and (y2, x2) share the bias of offset (|y1-y2|, |x1-x2|),
    stored at position |dy| * window + |dx|.
    """
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    delta = (coords[:, :, None] - coords[:, None, :]).abs()
    return delta[0] * window + delta[1]


class WindowAttention(nn.Module):
    """Multi-head self-attention inside one window, with a learned relative-position bias.

    ``qkv`` packs, for each head in turn, its query, key and value (head_dim each).
    """

    bias_index: torch.Tensor  # a buffer: which learned bias each pair of window positions uses

    def __init__(self, dim: int, num_heads: int, window: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, window * window))
        self.register_buffer("bias_index", relative_offset_index(window), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(batch, tokens, self.num_heads, 3, self.head_dim)
        q, k, v = qkv.permute(3, 0, 2, 1, 4).unbind(0)
        bias = self.attention_biases[:, self.bias_index].to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, -1))


class MLP(nn.Module):
    """Pre-norm two-layer GELU MLP (children ``norm``, ``fc1``, ``fc2``)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    """Windowed attention (residual), depthwise local conv, MLP (residual) on (B, H*W, C)."""

    def __init__(self, dim: int, resolution: int, num_heads: int, window: int, mlp_ratio: float, local_conv: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.window = window
        self.attn = WindowAttention(dim, num_heads, window)
        self.local_conv = ConvBN(dim, dim, kernel=local_conv, groups=dim)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def _windowed_attention(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, channels = x.shape
        side, win = self.resolution, self.window
        if side == win:
            return self.attn(x)
        pad = (win - side % win) % win
        grid = F.pad(x.view(batch, side, side, channels), (0, 0, 0, pad, 0, pad))
        count = (side + pad) // win
        windows = grid.view(batch, count, win, count, win, channels).transpose(2, 3)
        windows = self.attn(windows.reshape(batch * count * count, win * win, channels))
        grid = windows.view(batch, count, count, win, win, channels).transpose(2, 3)
        grid = grid.reshape(batch, side + pad, side + pad, channels)[:, :side, :side]
        return grid.reshape(batch, side * side, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        x = x + self._windowed_attention(x)
        fmap = x.transpose(1, 2).reshape(batch, channels, self.resolution, self.resolution)
        x = self.local_conv(fmap).flatten(2).transpose(1, 2)
        return x + self.mlp(x)


class Stage(nn.Module):
    """A list of ``blocks`` and an optional ``downsample`` (patch merging) at the end."""

    def __init__(self, blocks: list[nn.Module], downsample: nn.Module | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x if self.downsample is None else self.downsample(x)


class TinyViTEncoder(nn.Module):
    """Image (B, 3, S, S) in [0, 1] -> embedding (B, 256, S/4, S/4)."""

    def __init__(self, config: MedseeModelConfig) -> None:
        super().__init__()
        dims, strides = config.embed_dims, config.merge_strides
        self.embedding_size = config.embedding_size
        self.patch_embed = PatchEmbed(3, dims[0])
        self.layers = nn.ModuleList()
        resolution = config.image_size
        for index, depth in enumerate(config.depths):
            last = index == len(config.depths) - 1
            if index == 0:
                blocks: list[nn.Module] = [MBConv(dims[0], config.mbconv_expand_ratio) for _ in range(depth)]
            else:
                blocks = [
                    TinyViTBlock(
                        dims[index], resolution, config.num_heads[index], config.window_sizes[index],
                        config.mlp_ratio, config.local_conv_size,
                    )
                    for _ in range(depth)
                ]
            merge = None if last else PatchMerging(resolution, dims[index], dims[index + 1], strides[index])
            self.layers.append(Stage(blocks, merge))
            if not last:
                resolution //= strides[index]
        out = config.prompt_embed_dim
        self.neck = nn.Sequential(
            nn.Conv2d(dims[-1], out, kernel_size=1, bias=False),
            LayerNorm2d(out),
            nn.Conv2d(out, out, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(out),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(image)
        for stage in self.layers:
            x = stage(x)
        side = self.embedding_size
        fmap = x.transpose(1, 2).reshape(x.shape[0], -1, side, side)
        return self.neck(fmap)
