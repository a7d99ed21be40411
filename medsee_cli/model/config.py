"""The architecture of a medsee grounding model, as a small serialisable config.

The pair ``config.json`` + ``model.safetensors`` in one folder is a saved model (the layout
``transformers`` uses); this config is what ``config.json`` holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medsee_cli.model.config_file import CONFIG_FILE, config_values, read_config, write_config

CONFIG_NAME = CONFIG_FILE


@dataclass(frozen=True)
class MedseeModelConfig:
    """Hyper-parameters of LiteMedSAM (TinyViT-5M encoder + SAM prompt encoder and decoder)."""

    model_type: str = "litemedsam"
    image_size: int = 256
    # TinyViT image encoder: a convolutional stage, then three windowed-attention stages.
    embed_dims: tuple[int, ...] = (64, 128, 160, 320)
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (2, 4, 5, 10)
    window_sizes: tuple[int, ...] = (7, 7, 14, 7)
    merge_strides: tuple[int, ...] = (2, 2, 1)
    mlp_ratio: float = 4.0
    mbconv_expand_ratio: float = 4.0
    local_conv_size: int = 3
    # Neck, prompt encoder and mask decoder (SAM).
    prompt_embed_dim: int = 256
    mask_in_chans: int = 16
    decoder_depth: int = 2
    decoder_heads: int = 8
    decoder_mlp_dim: int = 2048
    num_multimask_outputs: int = 3
    iou_head_depth: int = 3
    iou_head_hidden_dim: int = 256

    @property
    def embedding_size(self) -> int:
        """Side of the square image embedding (64 for a 256 input)."""
        stride = 1
        for value in self.merge_strides:
            stride *= value
        return self.image_size // stride

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MedseeModelConfig:
        return cls(**config_values(cls, data, "config"))

    def save(self, folder: Path) -> Path:
        """Write ``config.json`` into ``folder`` atomically."""
        return write_config(folder, self.to_dict())

    @classmethod
    def load(cls, folder: Path) -> MedseeModelConfig:
        return cls.from_dict(read_config(folder, "model config"))
