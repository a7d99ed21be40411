"""Balanced (slice, target) pairs from cached sources, with their training targets.

Every (target, present/absent) group is drawn equally often, so a lesion seen on a dozen
slices weighs as much as the aorta seen on hundreds, and "absent" is learnt for every target.
Within the "absent" group of a lesion, slices that show its organ are hard negatives (a
normal pancreatic head is not a pancreatic mass) and are drawn five times as often.
Text vectors are drawn from several phrasings of each target (canonical prompt, plain name,
lay names, synonyms) so free wording lands near the trained prompts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from medsee_cli.training.cache import SIDE, CachedSource


@dataclass(frozen=True)
class Pair:
    source: int
    slice: int
    target: int
    mask_row: int  # -1: the target is absent from this slice


@dataclass
class Batch:
    embeddings: torch.Tensor  # (N, 256, 64, 64) float32
    images: torch.Tensor  # (N, 1, 256, 256) float32 in [0, 1]
    texts: torch.Tensor  # (N, 384)
    masks: torch.Tensor  # (N, 256, 256) float32 0/1
    present: torch.Tensor  # (N,) float32
    boxes: torch.Tensor  # (N, 4) x0, y0, x1, y1 input pixels (zeros when absent)


def phrasings(target: str) -> list[str]:
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    variants = [target, kb.prompt(target)]
    if target in kb:
        variants += list(kb.get(target).names())[:4]
    return list(dict.fromkeys(variants))


HARD_NEGATIVE_WEIGHT = 5


def _organs(targets: list[str]) -> list[str]:
    """For each target, the organ a lesion target grows in ("" for non-lesions)."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    return [kb.get(t).organ if t in kb and kb.get(t).kind == "lesion" else "" for t in targets]


def all_pairs(sources: list[CachedSource], targets: list[str]) -> list[Pair]:
    index = {t: i for i, t in enumerate(targets)}
    pairs = []
    for s, source in enumerate(sources):
        for k, entry in enumerate(source.slices):
            pairs += [Pair(s, k, index[t], row) for t, row in entry["positives"].items() if t in index]
            pairs += [Pair(s, k, index[t], -1) for t in entry["negatives"] if t in index]
    return pairs


def box_of(mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return np.zeros(4, dtype=np.float32)
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32)


class PairSampler:
    def __init__(self, sources: list[CachedSource], targets: list[str], text_bank: list[torch.Tensor], seed: int = 0,
                 weights: dict[str, int] | None = None) -> None:
        """``weights``: source name -> how many times its pairs count in their group (1 if absent)."""
        self.sources = sources
        self.pairs = all_pairs(sources, targets)
        self.text_bank = text_bank  # per target: (V, 384) phrasings
        groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
        organs = _organs(targets)
        for i, pair in enumerate(self.pairs):
            # Hard negatives (a lesion absent from a slice that shows its organ) are drawn 5x as often.
            entry = sources[pair.source].slices[pair.slice]
            hard = pair.mask_row < 0 and organs[pair.target] in entry["positives"]
            weight = (weights or {}).get(sources[pair.source].name, 1)
            groups[(pair.target, pair.mask_row >= 0)].extend([i] * ((HARD_NEGATIVE_WEIGHT if hard else 1) * weight))
        self.groups = list(groups.values())
        self.rng = np.random.default_rng(seed)

    def group_counts(self) -> int:
        return len(self.groups)

    def sample(self, size: int) -> Batch:
        chosen = [self.pairs[int(self.rng.choice(self.groups[int(g)]))] for g in self.rng.integers(len(self.groups), size=size)]
        return self.batch(chosen, augment=True)

    def batch(self, pairs: list[Pair], augment: bool = False) -> Batch:
        emb, img, txt, masks, present, boxes = [], [], [], [], [], []
        for pair in pairs:
            source = self.sources[pair.source]
            emb.append(source.embeddings[pair.slice].float())
            img.append(source.images[pair.slice].float() / 255.0)
            bank = self.text_bank[pair.target]
            txt.append(bank[int(self.rng.integers(len(bank)))] if augment else bank[1 if len(bank) > 1 else 0])
            mask = source.mask(pair.mask_row) if pair.mask_row >= 0 else np.zeros((SIDE, SIDE), dtype=bool)
            masks.append(torch.from_numpy(mask.astype(np.float32)))
            present.append(1.0 if pair.mask_row >= 0 else 0.0)
            boxes.append(torch.from_numpy(box_of(mask)))
        embeddings = torch.stack(emb)
        if augment:  # cached features cannot be re-augmented geometrically: drop channels, add noise
            embeddings = F.dropout2d(embeddings, p=0.1) * 0.9 + 0.02 * torch.randn_like(embeddings)
        return Batch(embeddings, torch.stack(img)[:, None], torch.stack(txt), torch.stack(masks), torch.tensor(present), torch.stack(boxes))
