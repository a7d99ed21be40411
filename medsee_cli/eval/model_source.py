"""`--model NAME|PATH`: the grounding model, run by the slice engine, as an eval `Predictor`."""

from __future__ import annotations

from medsee_cli.eval.predictor import Predictor


def model_predictor(spec: str) -> Predictor:
    from medsee_cli.eval.engine_predictor import load_predictor

    return load_predictor(spec)
