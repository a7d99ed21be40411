"""Per-target presence thresholds chosen on a recipe's calibration sources.

A head's presence logits are not equally well scaled for every target: a lesion seen on a
few dozen training slices needs a higher bar than the liver. For each target with both
present and absent calibration slices, the threshold maximises Youden's J (recall minus
false-alarm rate); among equally good thresholds the highest is taken, and it sits halfway
to the next lower logit so it does not rest on one slice. Thresholds are clamped to
``LIMITS``, a narrow band around the default gate (logit 0): the shipped recipe calibrates on
phantoms only, and a phantom organ's logits run higher than a real CT's, so a wide band
moved real-CT gates too far (stomach recall on held-out real CT fell from 0.91 to 0.35 with
limits of -2..4; see the README).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from medsee_cli.training.cache import CachedSource
from medsee_cli.model.grounding.model import GroundingModel
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.training.replay import ground_cached

LIMITS = (-1.0, 1.0)  # logits: probabilities 0.27 .. 0.73


@dataclass(frozen=True)
class Calibration:
    target: str
    threshold: float  # logit
    positives: int
    negatives: int
    recall: float
    false_alarm_rate: float

    def row(self) -> dict:
        return {"target": self.target, "threshold_logit": round(self.threshold, 3), "positives": self.positives,
                "negatives": self.negatives, "recall": round(self.recall, 3),
                "false_alarm_rate": round(self.false_alarm_rate, 3)}


def presence_logits(model: GroundingModel, sources: list[CachedSource], targets: list[str],
                    texts: TargetTexts) -> dict[str, list[tuple[float, bool]]]:
    """Per target, (presence logit, truly present) for every slice where the truth is known."""
    found: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for item in ground_cached(model, sources, targets, texts):
        logits = item.grounding.presence_logits[0].float().cpu().numpy()
        for t, target in enumerate(targets):
            if target in item.known:
                found[target].append((float(logits[t]), target in item.entry["positives"]))
    return found


def choose_threshold(samples: list[tuple[float, bool]], default: float = 0.0) -> tuple[float, float, float]:
    """(threshold, recall, false-alarm rate) maximising Youden's J over ``samples``."""
    values = np.array([v for v, _ in samples], dtype=np.float64)
    truth = np.array([p for _, p in samples], dtype=bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return default, float("nan"), float("nan")
    candidates = np.unique(values)[::-1]  # highest first, so ties keep the highest bar
    best, best_j = default, -np.inf
    for i, value in enumerate(candidates):
        lower = candidates[i + 1] if i + 1 < len(candidates) else value - 1.0
        threshold = 0.5 * (value + lower)  # "present" means logit > threshold
        said = values > threshold
        j = (said & truth).sum() / positives - (said & ~truth).sum() / negatives
        if j > best_j + 1e-9:
            best, best_j = threshold, j
    best = float(np.clip(best, *LIMITS))
    said = values > best
    return best, float((said & truth).sum() / positives), float((said & ~truth).sum() / negatives)


def calibrate(model: GroundingModel, sources: list[CachedSource], targets: list[str],
              texts: TargetTexts) -> list[Calibration]:
    """Thresholds for every target with both kinds of calibration slices."""
    results = []
    for target, samples in presence_logits(model, sources, targets, texts).items():
        threshold, recall, false_alarms = choose_threshold(samples, model.config.presence_threshold)
        if np.isnan(recall):
            continue
        positives = sum(1 for _, p in samples if p)
        results.append(Calibration(target, threshold, positives, len(samples) - positives, recall, false_alarms))
    return results
