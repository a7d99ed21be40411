"""What the engine needs from a grounding model (``medsee_cli.model.grounding.GroundingModel``).

Written as a `Protocol` so the engine depends on the interface, not on one class: the real
model, the toy model in the engine tests and the stand-in encoders in benchmarks all fit. Every
member is required; the engine reads no optional attribute by name.

The model holds no text encoder: the caller encodes the target texts with the encoder the
model was trained with and hands the vectors to `SliceEngine.run`. Nor does it choose its
precision: the engine runs it under its own autocast (`engine.device.running`).
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

import numpy as np
import torch

from medsee_cli.model.grounding.confidence import ConfidenceMap
from medsee_cli.model.grounding.outputs import Grounding
from medsee_cli.model.preprocess import Geometry, Window


class GroundingLike(Protocol):
    """``prepare`` -> ``encode`` -> ``ground`` per batch; ``refine`` and ``to_slice`` per slice."""

    input_size: int  # side of the square model input, pixels

    @property
    def context_slices(self) -> int:
        """Neighbouring slices per side the model takes (0: single slices)."""

    @property
    def text_encoder(self) -> str:
        """The sentence encoder the caller must encode target texts with (`reasoning.target_text`)."""

    @property
    def trained_targets(self) -> tuple[str, ...]:
        """Target names the model was trained on (empty: it takes any text)."""

    def presence_logit(self, target: str) -> float:
        """The logit above which ``target`` counts as present on a slice."""

    @property
    def confidence_map(self) -> Optional[ConfidenceMap]:
        """What a finding's score means on CT (`model.grounding.confidence`); ``None``: not measured."""

    def prepare(self, slices: np.ndarray, modality: str, window: Optional[Window] = None,
                pixel_mm: Optional[tuple[float, float]] = None, zoomed: bool = False) -> tuple[torch.Tensor, list[Geometry]]:
        """(B, rows, cols[, 2c+1]) display-oriented values -> model input and per-slice geometry;
        ``pixel_mm``: the display's (row height, column width), for non-square pixels; ``zoomed``:
        the volume's field cuts through the body (`engine.modality.prepare_options`)."""

    def encode(self, images: torch.Tensor) -> Any:
        """Model input -> image features (the expensive step, once per slice)."""

    def ground(self, features: Any, text: torch.Tensor) -> Grounding:
        """Features x (T, D) text vectors -> presence, coarse masks and boxes for every pair."""

    def refine(self, features: Any, index: int, boxes: torch.Tensor) -> torch.Tensor:
        """(N, 4) boxes on item ``index`` -> (N, S, S) refined mask logits."""

    def to_slice(self, logits: torch.Tensor, geometry: Geometry) -> np.ndarray:
        """(..., h, w) logits on the model input -> (..., rows, cols) bool on the slice."""
