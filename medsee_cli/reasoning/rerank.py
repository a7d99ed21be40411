"""A learned re-ranker over the resolver's own best hypotheses (learning to rank).

The resolver's hand-set weights usually put the right target among its first three but not always first (a
structure named only as a landmark, an organ named in a cause, a long story). For each question the re-ranker
reads the resolver's best `Reranker.depth` hypotheses and an "abstain" row (`rerank_features`), scores each row
with a small model (standardised features, a linear term plus a tiny tanh layer) and takes a softmax over them.
It moves a hypothesis to first place only when the model prefers it to the resolver's first by at least
``margin`` in probability; otherwise the resolver's order stands. It never abstains on its own: the "abstain"
row only lets the model learn how sure it may be. The weights (``data/rerank.json``) are trained by
``bench/reasoning_rerank.py`` on the question sets (see the README for how they were measured).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from medsee_cli.reasoning import data
from medsee_cli.reasoning.rerank_features import FEATURES, Candidates, feature_rows

RESOURCE = "rerank.json"
RERANKED = "put first by the learned re-ranker, which weighs all of the evidence together"


@dataclass(frozen=True)
class RerankModel:
    """Standardise with ``mean``/``scale``; a row scores ``x @ linear + tanh(x @ hidden + bias) @ out``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    linear: np.ndarray
    hidden: np.ndarray  # features x units (units may be 0)
    bias: np.ndarray
    out: np.ndarray

    @classmethod
    def from_dict(cls, raw: dict) -> "RerankModel":
        array = lambda key, shape: np.asarray(raw[key], dtype=np.float64).reshape(shape)  # noqa: E731
        features = tuple(raw["features"])
        units = len(raw["bias"])
        return cls(features, array("mean", -1), array("scale", -1), array("linear", -1),
                   array("hidden", (len(features), units)), array("bias", -1), array("out", -1))

    def to_dict(self) -> dict:
        rounded = lambda a: np.round(np.asarray(a, dtype=np.float64), 6).tolist()  # noqa: E731
        return {"features": list(self.features), "mean": rounded(self.mean), "scale": rounded(self.scale),
                "linear": rounded(self.linear), "hidden": rounded(self.hidden), "bias": rounded(self.bias),
                "out": rounded(self.out)}

    def scores(self, rows: np.ndarray) -> np.ndarray:
        x = (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        return x @ self.linear + np.tanh(x @ self.hidden + self.bias) @ self.out


def softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max())
    return exp / exp.sum()


@dataclass(frozen=True)
class Reranker:
    """The model, how many hypotheses it reads (``depth``) and how much surer than of the resolver's first it
    must be of another (``margin``, in probability) to move that one first."""

    model: RerankModel
    depth: int = 8
    margin: float = 0.0

    def probabilities(self, candidates: Candidates) -> np.ndarray:
        """The model's probability for each candidate, then for abstaining."""
        return softmax(self.model.scores(feature_rows(candidates)))

    def first(self, candidates: Candidates) -> str:
        """The name of the hypothesis to put first, or '' to keep the resolver's order."""
        if len(candidates.items) < 2:
            return ""
        chances = self.probabilities(candidates)[:-1]
        best = int(np.argmax(chances))
        return candidates.items[best].name if best and chances[best] - chances[0] > self.margin else ""


@functools.lru_cache(maxsize=1)
def _packaged() -> Optional[Reranker]:
    raw = data.read(RESOURCE)
    model = RerankModel.from_dict(raw["model"])
    if model.features != FEATURES:
        return None  # trained on other features: retrain with bench/reasoning_rerank.py
    return Reranker(model, int(raw["depth"]), float(raw["margin"]))


def load_reranker(enabled: bool = True) -> Optional[Reranker]:
    """The packaged re-ranker (None when ``enabled`` is False or its weights do not match `FEATURES`)."""
    return _packaged() if enabled else None
