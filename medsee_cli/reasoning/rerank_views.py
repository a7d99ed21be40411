"""Meaning features for the learned re-ranker (`rerank_features`): how close a question's readings are to each of
a few hypotheses, taken apart. The resolver blends them into one similarity (`reading`): the whole question, the
question with its landmarks masked, a long question's clauses; and the index keeps a target's best text only,
whichever view it was (its description, a name, a clue, an everyday or relation view). Here each is kept apart,
for the hypotheses the re-ranker reads only.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.semantic import REJECT, SemanticIndex, index_texts, lay_views, relation_view

VIEW_KINDS = ("description", "name", "clue", "lay")  # 'clue': its clue phrases and sentence; 'lay': lay, relation
MEANINGS = ("whole", "masked", "clause_focus", "clause_last", "clause_max", *(f"view_{k}" for k in VIEW_KINDS))


def _view_kind(kb: KnowledgeBase, text: str, owner: str) -> str:
    entry = kb.get(owner)
    if text == f"{entry.display}: {entry.description}":
        return "description"
    if text.startswith(f"{entry.display}, looked at for ") or text in entry.clues or text in entry.weak_clues:
        return "clue" if text not in entry.names() else "name"
    if text == relation_view(kb, entry) or text in lay_views().get(owner, ()):
        return "lay"
    return "name"


class ViewIndex:
    """Per target: the rows of `SemanticIndex.vectors` that hold its texts, their weights and view kinds."""

    def __init__(self, kb: KnowledgeBase, index: SemanticIndex) -> None:
        items = index_texts(kb)
        order = sorted(range(len(items)), key=lambda i: (items[i].owner, i))  # as `SemanticIndex` orders its rows
        self.index = index
        self.rows: dict[str, np.ndarray] = {}
        self.kinds: dict[str, np.ndarray] = {}
        grouped: dict[str, list[tuple[int, int]]] = {}
        for at, i in enumerate(order):
            item = items[i]
            if item.owner != REJECT:
                kind = VIEW_KINDS.index(_view_kind(kb, item.text, item.owner))
                grouped.setdefault(item.owner, []).append((at, kind))
        for owner, rows in grouped.items():
            self.rows[owner] = np.array([r for r, _ in rows])
            self.kinds[owner] = np.array([k for _, k in rows])

    def meanings(self, names: list[str], vectors: Any) -> list[dict[str, float]]:
        """Per name, its similarity (as `SemanticIndex.scores` weighs it) to each reading in ``vectors``
        (`reading.Vectors`) and to each of its view kinds for the whole question."""
        readings = [vectors.whole, vectors.whole if vectors.masked is None else vectors.masked]
        parts, factors = vectors.parts, vectors.factors
        clauses: list[int] = []
        if parts is not None and len(parts):
            kept = [i for i in range(len(parts)) if np.linalg.norm(parts[i]) > 0]
            if kept:
                focus = max(kept, key=lambda i: (factors[i], i))
                clauses = [focus, kept[-1], *kept]
                readings += [parts[i] for i in clauses]
        matrix = np.asarray(readings, dtype=np.float32)
        out: list[dict[str, float]] = []
        for name in names:
            rows = self.rows.get(name)
            if rows is None:
                out.append({})
                continue
            sims = (self.index.vectors[rows] @ matrix.T) * self.index.weights[rows][:, None]
            best = sims.max(axis=0)
            found = {"whole": float(best[0]), "masked": float(best[1])}
            if clauses:
                found.update(clause_focus=float(best[2]), clause_last=float(best[3]), clause_max=float(best[4:].max()))
            else:
                found.update(clause_focus=found["whole"], clause_last=found["whole"], clause_max=found["whole"])
            kinds = self.kinds[name]
            for k, kind in enumerate(VIEW_KINDS):
                chosen = sims[kinds == k, 0]
                found[f"view_{kind}"] = float(chosen.max()) if len(chosen) else 0.0
            out.append(found)
        return out


def view_index(kb: KnowledgeBase, index: Optional[SemanticIndex]) -> Optional[ViewIndex]:
    return ViewIndex(kb, index) if index is not None else None
