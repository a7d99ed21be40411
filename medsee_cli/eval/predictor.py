"""The contract between the evaluator and anything that predicts: a model, or saved files.

A `Predictor` gets an item's image (2D ``[row, col]`` or 3D ``[i, j, k]``) and its referring
expression and returns a `Prediction`: a boolean mask on the same grid and, optionally, a box in
the item's convention (see `medsee_cli.eval.items`). The grounding model plugs in here when it
lands; tests use tiny predictors (ground truth, a shifted copy) to check the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from medsee_cli.eval.items import EvalItem, Sample


@dataclass(frozen=True)
class Prediction:
    mask: np.ndarray | None  # None: the predictor produced no mask (scored as empty)
    box: tuple[float, ...] | None = None  # None: derived from the mask when scoring
    missing: bool = False  # True: no prediction was found for this item


@runtime_checkable
class Predictor(Protocol):
    """Anything with ``predict(image, text) -> Prediction`` (or a ``(mask, box)`` pair)."""

    def predict(self, image: np.ndarray, text: str) -> Prediction | tuple[np.ndarray | None, tuple[float, ...] | None]: ...


class PredictionSource(Protocol):
    """Where the evaluator gets the prediction for one item."""

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction: ...


class PredictorSource:
    """Runs a `Predictor` on each item's image and text."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        result = self.predictor.predict(sample.image, item.text)
        if isinstance(result, Prediction):
            return result
        mask, box = result
        return Prediction(mask=None if mask is None else np.asarray(mask, dtype=bool), box=box)
