"""LiteMedSAM: TinyViT image encoder + SAM prompt encoder + SAM mask decoder (about 9.8 M parameters).

``embed`` runs the expensive encoder once per image; ``decode_boxes`` is cheap and can be
called for many boxes on the same embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.mask_decoder import MaskDecoder
from medsee_cli.model.prompt_encoder import PromptEncoder
from medsee_cli.model.tinyvit import TinyViTEncoder


class LiteMedSAM(nn.Module):
    def __init__(self, config: MedseeModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or MedseeModelConfig()
        self.image_encoder = TinyViTEncoder(self.config)
        self.mask_decoder = MaskDecoder(self.config)
        self.prompt_encoder = PromptEncoder(self.config)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) scaled to [0, 1] -> embeddings (B, 256, S/4, S/4)."""
        return self.image_encoder(images)

    def decode_boxes(self, embedding: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One embedding (1, C, E, E) and boxes (N, 4) in input pixels (x0, y0, x1, y1).

        Returns the single-mask output: logits (N, 1, S, S) and predicted IoU (N, 1).
        """
        # Position codes are sin/cos of projected coordinates: keep them in fp32 under autocast.
        with torch.autocast(device_type=embedding.device.type, enabled=False):
            sparse, dense = self.prompt_encoder.embed_boxes(boxes.float())
            positions = self.prompt_encoder.dense_positions()
        dtype = embedding.dtype
        logits, iou = self.mask_decoder(embedding, positions.to(dtype), sparse.to(dtype), dense.to(dtype))
        return logits[:, :1], iou[:, :1]

    def forward(self, images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """One image (1, 3, S, S) and its boxes (N, 4) -> logits (N, 1, S, S)."""
        return self.decode_boxes(self.embed(images), boxes)[0]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
