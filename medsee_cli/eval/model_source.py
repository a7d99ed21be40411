"""`--model NAME|PATH`: the grounding model as a `Predictor`, once the model package provides one.

The model package is expected to offer ``medsee_cli.model.predictor.load_predictor(spec)``
returning an object with ``predict(image, text) -> Prediction | (mask, box)`` (see
`medsee_cli.eval.predictor`). Until it does, asking for a model is a clear `NotYetAvailable`.
"""

from __future__ import annotations

from medsee_cli.errors import NotYetAvailable
from medsee_cli.eval.predictor import Predictor


def model_predictor(spec: str) -> Predictor:
    try:
        from medsee_cli.model.predictor import load_predictor  # type: ignore[import-not-found]
    except ImportError:
        raise NotYetAvailable(
            f"evaluating a model ({spec!r}) needs the grounding model, which is not in this version yet; "
            "score saved masks and boxes with --predictions DIR"
        ) from None
    return load_predictor(spec)
