"""SAM mask decoder: image embedding + prompt tokens -> mask logits and predicted IoU.

Output tokens (one IoU token, 1 + ``num_multimask_outputs`` mask tokens) are prepended to the
prompt tokens and run through the two-way transformer. The image tokens are upscaled 4x with
transposed convolutions; each mask token, through its own MLP, becomes a 32-d filter whose dot
product with the upscaled features gives that mask's logits. Token 0 is the single-mask output
LiteMedSAM was trained with; the IoU head estimates each mask's IoU with the truth.
"""

from __future__ import annotations

import torch
from torch import nn

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.layers import LayerNorm2d, ReluMLP
from medsee_cli.model.two_way_transformer import TwoWayTransformer


class MaskDecoder(nn.Module):
    def __init__(self, config: MedseeModelConfig) -> None:
        super().__init__()
        dim = config.prompt_embed_dim
        self.num_mask_tokens = config.num_multimask_outputs + 1
        self.transformer = TwoWayTransformer(dim, config.decoder_depth, config.decoder_heads, config.decoder_mlp_dim)
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, kernel_size=2, stride=2),
            LayerNorm2d(dim // 4),
            nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.output_hypernetworks_mlps = nn.ModuleList(
            ReluMLP(dim, dim, dim // 8, 3) for _ in range(self.num_mask_tokens)
        )
        self.iou_prediction_head = ReluMLP(dim, config.iou_head_hidden_dim, self.num_mask_tokens, config.iou_head_depth)

    def forward(
        self,
        image_embedding: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt: torch.Tensor,
        dense_prompt: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One embedding (1, C, E, E) and N prompts -> logits (N, M, 4E, 4E) and IoU (N, M).

        M = 1 + num_multimask_outputs; index 0 is the single-mask output.
        """
        count = sparse_prompt.shape[0]
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        tokens = torch.cat([output_tokens.unsqueeze(0).expand(count, -1, -1).to(sparse_prompt.dtype), sparse_prompt], dim=1)
        image = image_embedding.expand(count, -1, -1, -1) + dense_prompt
        positions = image_pe.expand(count, -1, -1, -1)
        batch, channels, height, width = image.shape
        tokens, image_tokens = self.transformer(image, positions, tokens)
        iou_out = tokens[:, 0]
        mask_out = tokens[:, 1 : 1 + self.num_mask_tokens]
        features = self.output_upscaling(image_tokens.transpose(1, 2).reshape(batch, channels, height, width))
        filters = torch.stack([mlp(mask_out[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1)
        b, c, h, w = features.shape
        logits = (filters @ features.reshape(b, c, h * w)).reshape(b, -1, h, w)
        return logits, self.iou_prediction_head(iou_out)
