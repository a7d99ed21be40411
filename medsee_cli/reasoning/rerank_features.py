"""What the learned re-ranker (`rerank`) sees: the resolver's best few hypotheses for one question, and per
hypothesis a row of general features the resolver already knows (its score and rank, the phrase and meaning
evidence for it, whether it was only a landmark, the kind asked for, the scan or the place named ...), plus one
row for "abstain". No feature names a target: the model learns how to weigh kinds of evidence, not answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# evidence kinds (`resolver.Evidence.kind`) whose strongest weight is a feature of its own
EVIDENCE_KINDS = ("name", "clue", "weak", "relation", "landmark", "lesion", "context")
LESION_KINDS = ("lesion", "spread", "scan_lesion")  # read as one: the question asks about a lump
STRONG = ("name", "clue", "relation", "lesion", "spread", "scan_lesion")

FEATURES = (
    "score", "gap_to_top", "ratio_to_top", "rank_1", "rank_2", "rank_3", "rank_frac",
    "lexical", "meaning", "meaning_gap", "meaning_best",
    *(f"evidence_{kind}" for kind in EVIDENCE_KINDS),
    "only_landmark", "said", "evidence_count",
    "kind_asked_match", "kind_asked_other", "out_of_place", "off_side",
    "is_lesion", "is_generic_lesion", "is_union", "whole_of_other", "part_of_other",
    "long_meaning", "long_lexical", "long_rank_1", "long_only_landmark",
    "lump_lesion", "lump_not_lesion", "part_of_said", "whole_of_unsaid", "meaning_rank",
    "abstain", "abstain_reject", "abstain_reject_lead", "abstain_top_score", "abstain_named", "abstain_long",
    "abstain_meaning_only",
)


@dataclass(frozen=True)
class Candidate:
    """One hypothesis as the resolver ranked it: ``score`` before reporting, its phrase-evidence score, its
    evidence (`resolver.Evidence`), its similarity in meaning (None without an encoder), the notes on its
    rationale, whether it is of a kind the question asks for, a lesion or a union, and its ancestors (itself
    first, `knowledge.KnowledgeBase.ancestors`)."""

    name: str
    score: float
    lexical: float
    evidence: tuple[Any, ...]
    similarity: float | None
    notes: tuple[str, ...]
    kind_match: bool
    is_lesion: bool
    is_union: bool
    ancestors: tuple[str, ...]


@dataclass(frozen=True)
class Candidates:
    """The resolver's view of one question just before it reports: its candidates, best first (the resolver's
    own order), and what holds for the whole question."""

    items: tuple[Candidate, ...]
    reject: float  # similarity to the nearest out-of-scope example (-1 without an encoder)
    asked: frozenset[str] = field(default_factory=frozenset)  # kinds the question asks for
    long: bool = False
    named: bool = False  # the words name or place something
    said: frozenset[str] = field(default_factory=frozenset)  # targets the question names itself
    lump: bool = False  # a lesion word is in the question


def _strongest(evidence: tuple[Any, ...], kinds: tuple[str, ...]) -> float:
    return max((min(e.weight, 1.2) for e in evidence if e.kind in kinds), default=0.0)


def feature_rows(candidates: Candidates, generic_lesion: str = "lesion") -> np.ndarray:
    """One row per candidate, then one for abstaining, in the order of `FEATURES` (float32)."""
    items = candidates.items
    rows = np.zeros((len(items) + 1, len(FEATURES)), dtype=np.float32)
    if not items:
        return rows
    top = max(min(c.score, 1.0) for c in items)
    meanings = [c.similarity if c.similarity is not None else 0.0 for c in items]
    best_meaning = max(meanings)
    names = {c.name for c in items}
    long = float(candidates.long)
    lump = float(candidates.lump)
    by_meaning = sorted(range(len(items)), key=lambda i: -meanings[i])
    for i, c in enumerate(items):
        score = min(c.score, 1.0)
        lexical = c.lexical
        strongest = {kind: _strongest(c.evidence, (kind,) if kind != "lesion" else LESION_KINDS)
                     for kind in EVIDENCE_KINDS}
        only_landmark = float(strongest["landmark"] > 0 and not any(e.kind in STRONG for e in c.evidence))
        row = {
            "score": score, "gap_to_top": top - score, "ratio_to_top": score / top if top > 0 else 0.0,
            "rank_1": float(i == 0), "rank_2": float(i == 1), "rank_3": float(i == 2), "rank_frac": i / len(items),
            "lexical": lexical, "meaning": meanings[i], "meaning_gap": best_meaning - meanings[i],
            "meaning_best": float(meanings[i] == best_meaning),
            **{f"evidence_{kind}": value for kind, value in strongest.items()},
            "only_landmark": only_landmark, "said": float(c.name in candidates.said),
            "evidence_count": min(len(c.evidence), 5) / 5,
            "kind_asked_match": float(bool(candidates.asked) and c.kind_match),
            "kind_asked_other": float(bool(candidates.asked) and not c.kind_match),
            "out_of_place": float(any("unlikely" in n for n in c.notes)),
            "off_side": float(any("usually lies" in n for n in c.notes)),
            "is_lesion": float(c.is_lesion), "is_generic_lesion": float(c.name == generic_lesion),
            "is_union": float(c.is_union),
            "whole_of_other": float(any(c.name in o.ancestors[1:] for o in items)),
            "part_of_other": float(any(a in names for a in c.ancestors[1:])),
            "long_meaning": long * meanings[i], "long_lexical": long * lexical, "long_rank_1": long * (i == 0),
            "long_only_landmark": long * only_landmark,
            "lump_lesion": lump * c.is_lesion, "lump_not_lesion": lump * (not c.is_lesion),
            "part_of_said": float(any(a in candidates.said for a in c.ancestors[1:])),
            "whole_of_unsaid": float(c.name in candidates.said and any(
                c.name in o.ancestors[1:] and o.name not in candidates.said for o in items)),
            "meaning_rank": by_meaning.index(i) / len(items),
        }
        rows[i] = [row.get(name, 0.0) for name in FEATURES]
    abstain = {
        "abstain": 1.0, "abstain_reject": candidates.reject, "abstain_reject_lead": candidates.reject - best_meaning,
        "abstain_top_score": top, "abstain_named": float(candidates.named), "abstain_long": long,
        "abstain_meaning_only": float(not any(e.kind in STRONG for c in items for e in c.evidence)),
    }
    rows[-1] = [abstain.get(name, 0.0) for name in FEATURES]
    return rows
