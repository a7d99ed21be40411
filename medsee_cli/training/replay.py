"""Running a grounding model over cached slices: what calibration and held-out scoring share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from medsee_cli.model.grounding.outputs import Features
from medsee_cli.training.cache import CachedSource


@dataclass(frozen=True)
class GroundedSlice:
    source: CachedSource
    entry: dict  # the cache's per-slice record: volume, index, positives, negatives
    known: frozenset[str]  # targets whose presence or absence is known on this slice
    features: Features
    grounding: Any  # `Grounding` of this slice against every target, in the order given


def ground_cached(model, sources: list[CachedSource], targets: list[str]) -> Iterator[GroundedSlice]:  # type: ignore[no-untyped-def]
    """Every cached slice where at least one target's truth is known, grounded on all targets."""
    texts = model.text_vectors(targets)
    for source in sources:
        for k, entry in enumerate(source.slices):
            known = frozenset(t for t in targets if t in entry["positives"] or t in entry["negatives"])
            if not known:
                continue
            features = Features(source.embeddings[k:k + 1].float(), source.images[k:k + 1, None].float() / 255.0).to(model.device)
            yield GroundedSlice(source, entry, known, features, model.ground(features, texts))
