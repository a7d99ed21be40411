"""The contract between the evaluator and anything that predicts: a model, or saved files.

A `Predictor` gets an item's `Sample` (its image, 2D ``[row, col]`` or 3D ``[i, j, k]``, with
spacing and orientation) and its referring expression, and returns a `Prediction`: a boolean
mask on the same grid and, optionally, a box in the item's convention (see
`medsee_cli.eval.items`). The grounding model plugs in through `engine_predictor`; tests use
tiny predictors (ground truth, a shifted copy) to check the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from medsee_cli.eval.items import EvalItem, Sample


@dataclass(frozen=True)
class Prediction:
    mask: np.ndarray | None  # None: the predictor produced no mask (scored as empty)
    box: tuple[float, ...] | None = None  # None: derived from the mask when scoring
    missing: bool = False  # True: no prediction was found for this item
    target: str | None = None  # the target the predictor chose for the text, when it says
    picture_turn: int | None = None  # a geometry-less picture: the turn the predictor read it in (model.picture_view)


@runtime_checkable
class Predictor(Protocol):
    """Anything with ``predict(sample, text) -> Prediction`` (or a ``(mask, box)`` pair)."""

    def predict(self, sample: Sample, text: str) -> Prediction | tuple[np.ndarray | None, tuple[float, ...] | None]: ...


class PredictionSource(Protocol):
    """Where the evaluator gets the prediction for one item."""

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction: ...


class PredictorSource:
    """Runs a `Predictor` on each item's image and text."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def identity(self) -> dict[str, Any]:
        """What the predictor says it is (``identity()``), else its class."""
        described = getattr(self.predictor, "identity", None)
        return dict(described()) if callable(described) else {"kind": "predictor", "class": type(self.predictor).__name__}

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        result = self.predictor.predict(sample, item.text)
        if isinstance(result, Prediction):
            return result
        mask, box = result
        return Prediction(mask=None if mask is None else np.asarray(mask, dtype=bool), box=box)
