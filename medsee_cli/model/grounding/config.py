"""`GroundingConfig`: the architecture of the grounding head and the frozen base it sits on.

Saved as ``config.json`` next to ``model.safetensors`` (the head's weights only); the base
checkpoint is named and pinned by SHA-256 so a head is never run on a different encoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from medsee_cli.model.config_file import CONFIG_FILE, config_values, read_config, write_config
from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.grounding.confidence import ConfidenceMap

CONFIG_NAME = CONFIG_FILE
MODEL_TYPE = "medsee-grounding"


@dataclass(frozen=True)
class GroundingConfig:
    """Hyper-parameters of the head; defaults are those of ``medsee-grounding-v1``."""

    model_type: str = MODEL_TYPE
    base: str = "litemedsam-base"  # registry name of the frozen image encoder / box refiner
    base_sha256: str = ""  # SHA-256 of the base weights the head was trained on ("" = not pinned)
    image_size: int = 256
    embedding_channels: int = 256  # LiteMedSAM neck output (B, 256, 64, 64)
    # The sentence encoder whose vectors the head was trained on: callers must encode target
    # texts with it ("all-MiniLM-L6-v2" = the packaged one, see `reasoning.encoder`).
    text_encoder: str = "all-MiniLM-L6-v2"
    text_dim: int = 384  # all-MiniLM-L6-v2 sentence vectors
    dim: int = 48  # width of the fused features at 1/4 input scale
    stem_channels: int = 16  # width of the learned full-resolution stem (1/2 input scale)
    kernels: tuple[int, ...] = (1, 3, 5)  # depthwise kernel sizes of the scale-aware attention
    levels: int = 3  # feature pyramid levels: 1/4, 1/8, 1/16 of the input
    mask_stride: int = 2  # mask logits are (input / mask_stride) square
    # A zoomed field (one that cuts through the body, `preprocess.cuts_body`) of known pixel size
    # spanning less than this many mm is shown padded to it (`preprocess.geometry_for`), so organs
    # keep the size they had in whole-body fields; 0 = every slice fills the input.
    min_field_mm: float = 0.0
    presence_threshold: float = 0.0  # logit above which a target counts as present
    # Per-target presence thresholds (logits) chosen on the recipe's calibration sources;
    # targets not listed (and free-text prompts) use ``presence_threshold``.
    presence_thresholds: dict[str, float] = field(default_factory=dict)
    # The printed confidence of a finding on CT (`confidence.ConfidenceMap`, fitted by
    # bench/reliability.py on findings in real CT the model never saw); empty: none measured.
    confidence_map: dict[str, Any] = field(default_factory=dict)
    # The target names the weights were trained on: the engine outlines these by name and
    # skips others with a reason (free-text prompts are any text).
    trained_targets: tuple[str, ...] = ()
    # The folder's own integrity record: SHA-256 of its model.safetensors, written by
    # `save_pretrained` and checked by every load ("" only in a config not yet saved).
    weights_sha256: str = ""

    def presence_logit(self, target: str) -> float:
        """The logit above which ``target`` counts as present on a slice."""
        return float(self.presence_thresholds.get(target, self.presence_threshold))

    @property
    def confidence(self) -> Optional[ConfidenceMap]:
        """What a finding's model score means on CT, when it was measured (`confidence_map`)."""
        return ConfidenceMap.from_dict(self.confidence_map)

    @property
    def mask_size(self) -> int:
        return self.image_size // self.mask_stride

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundingConfig:
        values = config_values(cls, data, "grounding config")
        if data.get("model_type", MODEL_TYPE) != MODEL_TYPE:
            raise CheckpointError("grounding config", f"model_type is {data.get('model_type')!r}, expected {MODEL_TYPE!r}")
        return cls(**values)

    def save(self, folder: Path) -> Path:
        return write_config(folder, self.to_dict())

    @classmethod
    def load(cls, folder: Path) -> GroundingConfig:
        return cls.from_dict(read_config(folder, "grounding config"))
