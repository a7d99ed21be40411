"""Scores a grounding model on cached held-out slices, per target.

Per target: presence precision and recall over slices where the truth is known; slice-wise
Dice of the coarse mask and of the final (refined) mask on slices that hold the target (a
closed gate scores 0); slice-wise box IoU of the final mask's box and Acc@0.5; 3D Dice and
3D box IoU per volume over the evaluated slices. Masks are compared on the 256x256 model
input grid. Empty-mask rule: slices without the target do not enter Dice; they enter the
presence figures only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch.nn.functional as F

from medsee_cli.model.grounding.pipeline import RefineOptions, gate_for, refine_mask
from medsee_cli.training.cache import CachedSource
from medsee_cli.model.grounding.model import GroundingModel
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.training.replay import ground_cached
from medsee_cli.training.sampler import box_of


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of boxes given as (lo..., hi...) with exclusive upper corners; 0 if either is empty."""
    half = len(a) // 2
    if np.any(a[half:] <= a[:half]) or np.any(b[half:] <= b[:half]):
        return 0.0
    inter = np.prod(np.clip(np.minimum(a[half:], b[half:]) - np.maximum(a[:half], b[:half]), 0, None))
    union = np.prod(a[half:] - a[:half]) + np.prod(b[half:] - b[:half]) - inter
    return float(inter / union) if union > 0 else 0.0


def box3d(stack: np.ndarray) -> np.ndarray:
    found = np.argwhere(stack)
    if len(found) == 0:
        return np.zeros(6, dtype=np.float32)
    return np.concatenate([found.min(0), found.max(0) + 1]).astype(np.float32)


@dataclass
class TargetScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    dice_coarse: list[float] = field(default_factory=list)
    dice: list[float] = field(default_factory=list)
    box_iou: list[float] = field(default_factory=list)
    dice3d: list[float] = field(default_factory=list)
    box_iou3d: list[float] = field(default_factory=list)

    def row(self, name: str) -> dict:
        mean = lambda values: round(float(np.mean(values)), 3) if values else None  # noqa: E731
        return {
            "target": name,
            "positives": self.tp + self.fn, "negatives": self.fp + self.tn,
            "presence_precision": round(self.tp / (self.tp + self.fp), 3) if self.tp + self.fp else None,
            "presence_recall": round(self.tp / (self.tp + self.fn), 3) if self.tp + self.fn else None,
            "dice_coarse": mean(self.dice_coarse), "dice": mean(self.dice),
            "box_iou": mean(self.box_iou), "box_acc50": mean([float(v >= 0.5) for v in self.box_iou]),
            "dice3d": mean(self.dice3d), "box_iou3d": mean(self.box_iou3d),
        }


def evaluate(model: GroundingModel, sources: list[CachedSource], targets: list[str], texts: TargetTexts,
             options: RefineOptions | None = None) -> list[dict]:
    """Scores per target; without ``options`` each target's gate is the model's own threshold."""
    per_target = {t: options or gate_for(model, t) for t in targets}
    scores: dict[str, TargetScore] = defaultdict(TargetScore)
    volumes: dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for item in ground_cached(model, sources, targets, texts):
        source, entry, known, features, grounding = item.source, item.entry, item.known, item.features, item.grounding
        for t_index, target in enumerate(targets):
            if target not in known:
                continue
            presence = float(grounding.presence_logits[0, t_index])
            coarse_logits = grounding.mask_logits[0, t_index]
            final, _ = refine_mask(model, features, 0, coarse_logits, presence, per_target[target])
            predicted = (final > 0).numpy()
            truth = source.mask(entry["positives"][target]) if target in entry["positives"] else np.zeros_like(predicted)
            score = scores[target]
            said = predicted.any()
            if truth.any():
                score.tp += int(said)
                score.fn += int(not said)
                coarse = F.interpolate(coarse_logits[None, None], size=truth.shape, mode="bilinear", align_corners=False)[0, 0] > 0
                score.dice_coarse.append(dice(coarse.numpy() & (presence > per_target[target].presence_threshold), truth))
                score.dice.append(dice(predicted, truth))
                score.box_iou.append(box_iou(box_of(predicted), box_of(truth)))
            else:
                score.fp += int(said)
                score.tn += int(not said)
            volumes[(source.name, entry["volume"], target)].append((predicted, truth))
    for (_, _, target), planes in volumes.items():
        truth = np.stack([t for _, t in planes])
        if not truth.any():
            continue
        predicted = np.stack([p for p, _ in planes])
        scores[target].dice3d.append(dice(predicted, truth))
        scores[target].box_iou3d.append(box_iou(box3d(predicted), box3d(truth)))
    return [scores[t].row(t) for t in targets if t in scores]
