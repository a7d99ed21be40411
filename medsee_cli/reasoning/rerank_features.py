"""What the learned re-ranker (`rerank`) sees: the resolver's best few hypotheses for one question, and per
hypothesis a row of general features the resolver already knows (its score and rank, the phrase and meaning
evidence for it, whether it was only a landmark, the kind asked for, the scan or the place named ...), plus one
row for "abstain". No feature names a target: the model learns how to weigh kinds of evidence, not answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medsee_cli.reasoning.rerank_views import VIEW_KINDS

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
    # the meaning taken apart (`rerank_views`): the whole question, with landmarks masked, a long one's clauses,
    # and per view of the target
    "sim_whole", "sim_masked_shift", "sim_whole_best", "sim_masked_best",
    *(f"view_{kind}" for kind in VIEW_KINDS), "views_best",
    "long_clause_focus", "long_clause_last", "long_clause_max", "long_clause_focus_best",
    # how it stands to the resolver's first
    "part_of_first", "whole_of_first", "lesion_in_first", "first_lesion_in", "neighbour_of_first",
    "sibling_of_first",
    # where the words for it are, and what their clause took off
    "demoted_min", "only_demoted", "first_word", "named_last", "kind_own",
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
    meanings: dict[str, float] = field(default_factory=dict)  # its similarities taken apart (`rerank_views`)
    organ: str = ""  # the organ a lesion is in
    related: frozenset[str] = frozenset()  # what the knowledge base places it by (above, next to ...)
    kind_own: bool = False  # of a kind asked for by its own kind, not by its organ's


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
    words: int = 0  # how many words the question has


def _strongest(evidence: tuple[Any, ...], kinds: tuple[str, ...]) -> float:
    return max((min(e.weight, 1.2) for e in evidence if e.kind in kinds), default=0.0)


def _positions(c: Candidate) -> list[tuple[int, float]]:
    return [(e.start, e.demoted) for e in c.evidence if getattr(e, "start", -1) >= 0]


def _apart(candidates: Candidates, i: int, meanings: list[float]) -> dict[str, float]:
    """The features of the meaning taken apart, of how the candidate stands to the resolver's first, and of where
    the question names it."""
    items = candidates.items
    c, first = items[i], items[0]
    views = [x.meanings or {} for x in items]
    get = lambda k, key: views[k].get(key, meanings[k])  # noqa: E731
    best = lambda key: max(get(k, key) for k in range(len(items)))  # noqa: E731
    long = float(candidates.long)
    masked = any(abs(get(k, "masked") - get(k, "whole")) > 1e-6 for k in range(len(items)))
    row = {"sim_whole": get(i, "whole"), "sim_masked_shift": get(i, "masked") - get(i, "whole"),
           "sim_whole_best": float(get(i, "whole") >= best("whole")),
           "sim_masked_best": float(masked and get(i, "masked") >= best("masked"))}
    kinds = [f"view_{kind}" for kind in VIEW_KINDS]
    for key in kinds:
        row[key] = views[i].get(key, 0.0)
    row["views_best"] = sum(row[key] >= max(v.get(key, 0.0) for v in views) and row[key] > 0 for key in kinds) / 4
    for key in ("clause_focus", "clause_last", "clause_max"):
        row[f"long_{key}"] = long * get(i, key)
    row["long_clause_focus_best"] = long * float(get(i, "clause_focus") >= best("clause_focus"))
    if i:
        row["part_of_first"] = float(first.name in c.ancestors[1:])
        row["whole_of_first"] = float(c.name in first.ancestors[1:])
        row["lesion_in_first"] = float(c.is_lesion and bool(c.organ) and c.organ in first.ancestors)
        row["first_lesion_in"] = float(first.is_lesion and bool(first.organ) and first.organ in c.ancestors)
        row["neighbour_of_first"] = float(first.name in c.related or c.name in first.related)
        row["sibling_of_first"] = float(len(c.ancestors) > 1 and len(first.ancestors) > 1
                                        and c.ancestors[1] == first.ancestors[1])
    found = _positions(c)
    words = max(candidates.words, 1)
    row["demoted_min"] = min((d for _, d in found), default=1.0)
    row["only_demoted"] = float(bool(found) and all(d < 1.0 for _, d in found))
    row["first_word"] = min((at for at, _ in found), default=words) / words
    latest = max((at for x in items for at, _ in _positions(x)), default=-1)
    row["named_last"] = float(bool(found) and max(at for at, _ in found) == latest)
    row["kind_own"] = float(bool(candidates.asked) and c.kind_own)
    return row


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
        row.update(_apart(candidates, i, meanings))
        rows[i] = [row.get(name, 0.0) for name in FEATURES]
    abstain = {
        "abstain": 1.0, "abstain_reject": candidates.reject, "abstain_reject_lead": candidates.reject - best_meaning,
        "abstain_top_score": top, "abstain_named": float(candidates.named), "abstain_long": long,
        "abstain_meaning_only": float(not any(e.kind in STRONG for c in items for e in c.evidence)),
    }
    rows[-1] = [abstain.get(name, 0.0) for name in FEATURES]
    return rows
