"""Meaning-level matching: each target's sentences and phrases as vectors, plus a "none of these" class.

Per target the index embeds its description, a sentence listing its clues, and every name and clue
phrase on its own (short codes such as 'aaa' or 'l2' are left to the exact phrase matcher, since
their vectors are close to any short nonsense). A question's similarity to a target is the best
weighted cosine over the target's texts. The out-of-scope examples (``data/out_of_scope.yaml``)
give a second number: how close the question is to things medsee should not answer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
import numpy as np

from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import KnowledgeBase

OUT_OF_SCOPE_RESOURCE = "out_of_scope.yaml"
VIEWS_RESOURCE = "views.yaml"
REJECT = ""  # owner of the out-of-scope examples
PHRASE_WEIGHTS = {"description": 1.0, "view": 1.0, "relation": 1.0, "name": 1.0, "clue": 0.95, "weak": 0.8}
MIN_PHRASE_CHARS = 5
# how a relation reads in a sentence about the target ('the gland in front of the windpipe')
RELATION_PHRASES = {"above": "above", "below": "below", "under": "under", "behind": "behind",
                    "in_front_of": "in front of", "next_to": "next to", "inside": "inside", "around": "around",
                    "from": "coming from", "to": "going to"}
BROAD_TYPES = ("organ", "tube")  # a target's more telling kind word comes first when it has one


@functools.lru_cache(maxsize=1)
def out_of_scope_examples() -> tuple[str, ...]:
    groups = data.read(OUT_OF_SCOPE_RESOURCE)["examples"]
    return tuple(str(example) for examples in groups.values() for example in examples)


@functools.lru_cache(maxsize=1)
def lay_views() -> dict[str, tuple[str, ...]]:
    """Target name -> everyday descriptions of it (``data/views.yaml``), embedded as extra views."""
    return {str(name): tuple(str(v) for v in views)
            for name, views in (data.read(VIEWS_RESOURCE)["views"] or {}).items()}


def relation_view(kb: KnowledgeBase, entry) -> str:
    """The entry's relations as one sentence with its kind word: 'the vessel coming from the heart and
    going to the lungs'. A question that uses a landmark reads close to it; '' when it has none."""
    if not entry.relations or not entry.types:
        return ""
    kind = next((t for t in entry.types if t not in BROAD_TYPES), entry.types[0])
    kind = kind.replace("_", " ")
    parts, seen = [], set()
    for relation, target in entry.relations:
        words = RELATION_PHRASES.get(relation, relation)
        if (words, target) not in seen and target in kb:
            seen.add((words, target))
            parts.append(f"{words} the {kb.get(target).display}")
    return f"the {kind} " + " and ".join(parts)


def _phrase_worth_embedding(phrase: str) -> bool:
    letters = sum(c.isalpha() for c in phrase)
    return letters >= MIN_PHRASE_CHARS and " " in phrase.strip() or letters >= MIN_PHRASE_CHARS + 1


@dataclass(frozen=True)
class IndexText:
    text: str
    owner: str
    weight: float
    view: str = ""  # which view of its owner: description, clue, lay (everyday or relation view), name; "" elsewhere


def index_texts(kb: KnowledgeBase) -> tuple[IndexText, ...]:
    """Everything the index embeds, in a fixed order (the embedding cache is keyed on it)."""
    items: list[IndexText] = []
    for entry in kb.entries:
        items.append(IndexText(f"{entry.display}: {entry.description}", entry.name, PHRASE_WEIGHTS["description"],
                               "description"))
        if entry.clues:
            items.append(IndexText(f"{entry.display}, looked at for " + ", ".join(entry.clues[:14]), entry.name,
                                   PHRASE_WEIGHTS["description"], "clue"))
        relation = relation_view(kb, entry)
        if relation:
            items.append(IndexText(relation, entry.name, PHRASE_WEIGHTS["relation"], "lay"))
        for view in lay_views().get(entry.name, ()):
            items.append(IndexText(view, entry.name, PHRASE_WEIGHTS["view"], "lay"))
        seen = set()
        for kind, phrases in (("name", entry.names()), ("clue", entry.clues), ("weak", entry.weak_clues)):
            for phrase in phrases:
                if phrase not in seen and _phrase_worth_embedding(phrase):
                    seen.add(phrase)
                    items.append(IndexText(phrase, entry.name, PHRASE_WEIGHTS[kind], "name" if kind == "name" else "clue"))
    items.extend(IndexText(example, REJECT, 1.0) for example in out_of_scope_examples())
    return tuple(items)


class SemanticIndex:
    def __init__(self, items: tuple[IndexText, ...], vectors: np.ndarray) -> None:
        # rows grouped by owner, so the best row per target is one maximum.reduceat
        order = sorted(range(len(items)), key=lambda i: (items[i].owner, i))
        owners = [items[i].owner for i in order]
        self.owners = owners  # per row, in the rows' order
        self.views = [items[i].view for i in order]  # per row: which view of its owner (`IndexText.view`)
        self.vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[order])
        self.weights = np.array([items[i].weight for i in order], dtype=np.float32)
        self._starts = np.array([i for i, owner in enumerate(owners) if i == 0 or owners[i - 1] != owner])
        self._names = [owners[i] for i in self._starts]

    def score_rows(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """For several vectors at once: (target names, best weighted similarity per vector and target,
        best similarity of each vector to an out-of-scope example)."""
        from medsee_cli.reasoning.blas_threads import blas_threads

        with blas_threads(1):
            sims = (np.asarray(vectors, dtype=np.float32) @ self.vectors.T) * self.weights
        best = np.maximum.reduceat(sims, self._starts, axis=1)
        keep = [i for i, name in enumerate(self._names) if name != REJECT]
        reject = best[:, self._names.index(REJECT)] if REJECT in self._names else np.full(len(best), -1.0)
        return [self._names[i] for i in keep], best[:, keep], reject

    def scores(self, vector: np.ndarray) -> tuple[dict[str, float], float]:
        """Best weighted similarity per target, and the best similarity to an out-of-scope example."""
        from medsee_cli.reasoning.blas_threads import blas_threads

        with blas_threads(1):
            sims = (self.vectors @ vector) * self.weights
        best = dict(zip(self._names, np.maximum.reduceat(sims, self._starts).tolist()))
        reject = best.pop(REJECT, -1.0)
        return best, reject
