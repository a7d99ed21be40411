"""Evaluation of referring / reasoning segmentation: datasets, metrics, runner and reports.

Python use mirrors ``medsee eval``::

    from medsee_cli.eval import EvalOptions, SavedPredictions, evaluate, load_dataset, write_outputs
    options = EvalOptions(split="test")
    dataset = load_dataset("mlmr-sd", Path("MLMR-SD"), options)
    result = evaluate(dataset, SavedPredictions(Path("preds")), options)
    write_outputs(result, Path("eval_out"), options)
"""

from medsee_cli.eval.datasets import load_dataset
from medsee_cli.eval.items import Dataset, EvalItem, Sample
from medsee_cli.eval.options import EvalOptions
from medsee_cli.eval.predictions import SavedPredictions
from medsee_cli.eval.predictor import Prediction, Predictor, PredictorSource
from medsee_cli.eval.report import write_outputs
from medsee_cli.eval.runner import EvalResult, evaluate

__all__ = [
    "Dataset",
    "EvalItem",
    "EvalOptions",
    "EvalResult",
    "Prediction",
    "Predictor",
    "PredictorSource",
    "Sample",
    "SavedPredictions",
    "evaluate",
    "load_dataset",
    "write_outputs",
]
