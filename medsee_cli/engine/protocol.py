"""What the engine needs from a grounding model (``medsee_cli.model.grounding.GroundingModel``).

Written as a `Protocol` so the engine depends on the interface, not on one class: the real
model, a tiny random-head model in tests and stand-in encoders in benchmarks all fit.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence

import numpy as np
import torch


class GroundingLike(Protocol):
    """``prepare`` -> ``encode`` -> ``ground`` per batch; ``refine`` and ``to_slice`` per slice."""

    input_size: int

    def prepare(self, slices: np.ndarray, modality: str) -> tuple[torch.Tensor, list[Any]]: ...

    def encode(self, images: torch.Tensor) -> Any: ...

    def text_vectors(self, texts: list[str]) -> torch.Tensor: ...

    def ground(self, features: Any, text: torch.Tensor) -> Any: ...

    def refine(self, features: Any, index: int, boxes: torch.Tensor) -> torch.Tensor: ...

    def to_slice(self, logits: torch.Tensor, geometry: Any) -> np.ndarray: ...


def model_context(model: Any) -> int:
    """Neighbouring slices per side the model takes (0 when it works on single slices)."""
    for holder in (model, getattr(model, "config", None)):
        for name in ("context_slices", "context"):
            value = getattr(holder, name, None) if holder is not None else None
            if isinstance(value, int) and value >= 0:
                return value
    return 0


def model_targets(model: Any) -> Optional[Sequence[str]]:
    """The target names a checkpoint was trained on, when it says; ``None`` = any text."""
    for holder in (model, getattr(model, "config", None)):
        for name in ("trained_targets", "targets", "target_names"):
            value = getattr(holder, name, None) if holder is not None else None
            if callable(value):
                value = value()
            if value:
                return tuple(str(v) for v in value)
    return None


def prompt_for(model: Any, target: str) -> str:
    """The text handed to ``text_vectors`` for a target: the model turns knowledge-base names
    into its own prompts, so a canonical name passes through unchanged."""
    method = getattr(model, "prompt_for", None)
    return str(method(target)) if callable(method) else target
