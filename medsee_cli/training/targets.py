"""From a label map's own names to knowledge-base targets, unions included.

A target's mask is the union of every label whose name is the target itself or one of its
members, recursively ("lungs" = lung_left + lung_right = their lobes; "kidneys" = both
kidneys), so label sets that name a union directly (total_mr's "lung_left", "vertebrae")
and sets that name only its parts (total's lobes, single vertebrae) both work.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1024)
def descendants(target: str) -> frozenset[str]:
    """The target and everything it is a union of (recursively)."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    names = {target}
    if target in kb:
        for member in kb.get(target).members:
            names |= descendants(member)
    return frozenset(names)


def label_ids(target: str, names: dict[int, str]) -> list[int]:
    """Label ids (of a map with ``names``) whose union is ``target``; empty if not labelled."""
    wanted = descendants(target)
    return sorted(i for i, name in names.items() if name in wanted)


def labelled_targets(targets: list[str], names: dict[int, str]) -> list[str]:
    """The targets this label set can show (so their absence in a slice is a real negative)."""
    return [t for t in targets if label_ids(t, names)]


def target_mask(labels: np.ndarray, target: str, names: dict[int, str]) -> np.ndarray:
    ids = label_ids(target, names)
    if not ids:
        return np.zeros(labels.shape, dtype=bool)
    return np.isin(labels, ids)
