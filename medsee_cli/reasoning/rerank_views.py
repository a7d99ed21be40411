"""Meaning features for the learned re-ranker (`rerank_features`): how close a question's readings are to each of
a few hypotheses, taken apart. The resolver blends them into one similarity (`reading`): the whole question, the
question with its landmarks masked, a long question's clauses; and the index keeps a target's best text only,
whichever view it was (its description, a name, a clue, an everyday or relation view). Here each is kept apart,
for the hypotheses the re-ranker reads only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medsee_cli.reasoning.semantic import REJECT, SemanticIndex

VIEW_KINDS = ("description", "name", "clue", "lay")  # 'clue': its clue phrases and sentence; 'lay': lay, relation
MEANINGS = ("whole", "masked", "clause_focus", "clause_last", "clause_max", *(f"view_{k}" for k in VIEW_KINDS))


class ViewIndex:
    """Per target: the rows of `SemanticIndex.vectors` that hold its texts and their view kinds
    (`IndexText.view`)."""

    def __init__(self, index: SemanticIndex) -> None:
        self.index = index
        grouped: dict[str, list[tuple[int, int]]] = {}
        for row, (owner, view) in enumerate(zip(index.owners, index.views)):
            if owner != REJECT:
                grouped.setdefault(owner, []).append((row, VIEW_KINDS.index(view)))
        self.rows: dict[str, np.ndarray] = {owner: np.array([r for r, _ in rows]) for owner, rows in grouped.items()}
        self.kinds: dict[str, np.ndarray] = {owner: np.array([k for _, k in rows]) for owner, rows in grouped.items()}

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

