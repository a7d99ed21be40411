"""`--model NAME|PATH`: the grounding model as an eval `Predictor` (`medsee_cli.model.predictor`)."""

from __future__ import annotations

from medsee_cli.eval.predictor import Predictor


def model_predictor(spec: str) -> Predictor:
    from medsee_cli.model.predictor import load_predictor

    return load_predictor(spec)
