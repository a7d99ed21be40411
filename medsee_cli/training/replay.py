"""Running a grounding model over cached slices: what calibration and held-out scoring share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from medsee_cli.model.grounding.model import GroundingModel
from medsee_cli.model.grounding.outputs import Features
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.training.cache import CachedSource


@dataclass(frozen=True)
class GroundedSlice:
    source: CachedSource
    entry: dict  # the cache's per-slice record: volume, index, positives, negatives
    known: frozenset[str]  # targets whose presence or absence is known on this slice
    features: Features
    grounding: Any  # `Grounding` of this slice against every target, in the order given


def ground_cached(model: GroundingModel, sources: list[CachedSource], targets: list[str],
                  texts: TargetTexts) -> Iterator[GroundedSlice]:
    """Every cached slice where at least one target's truth is known, grounded on all targets
    (their vectors from ``texts``, the encoder the model was trained with)."""
    vectors = torch.from_numpy(texts.vectors(targets))
    for source in sources:
        for k, entry in enumerate(source.slices):
            known = frozenset(t for t in targets if t in entry["positives"] or t in entry["negatives"])
            if not known:
                continue
            features = Features(source.embeddings[k:k + 1].float(), source.images[k:k + 1, None].float() / 255.0).to(model.device)
            yield GroundedSlice(source, entry, known, features, model.ground(features, vectors))
