"""A side stated in the question ('on the right', 'left') and the targets that have, or usually lie on, one.

- ``lend_to_side``: a pair's meaning carries over to its member on the stated side ('the bean shaped
  organ ... on the right' reads like 'kidneys'; the right kidney gets that similarity too).
- ``hold_to_pair``: with no side stated, a member of a pair is not preferred over its pair by meaning
  alone ('the artery you feel pulsing in the neck' reads like the left and the right carotid alike: the
  pair answers; the member views differ only by their side word).
- ``off_side``: an unpaired organ that normally lies on the other side ('usual_side' in
  ``data/placement.yaml``: the spleen on the left) ranks lower when the question states a side and does
  not name that organ.
"""

from __future__ import annotations

from medsee_cli.reasoning.knowledge import KnowledgeBase
from medsee_cli.reasoning.placement import usual_side


def lend_to_side(kb: KnowledgeBase, semantic: dict[str, float], side: str) -> dict[str, float]:
    """``semantic`` with each member on ``side`` given at least its pair's similarity."""
    lent = dict(semantic)
    for entry in kb.entries:
        member = entry.lateral_member(side)
        if member and entry.name in semantic:
            lent[member] = max(lent.get(member, 0.0), semantic[entry.name])
    return lent


PAIR_LEAD = 0.002  # how far below its pair a member's meaning is held when no side is stated


def hold_to_pair(kb: KnowledgeBase, semantic: dict[str, float]) -> dict[str, float]:
    """``semantic`` with each member of a pair held just under its pair's similarity (no side stated)."""
    held = dict(semantic)
    for entry in kb.entries:
        if entry.lateral and entry.name in semantic:
            for _, member in entry.lateral:
                if member in held:
                    held[member] = min(held[member], semantic[entry.name] - PAIR_LEAD)
    return held


def off_side(scores: dict[str, float], side: str, named: set[str], factor: float,
             notes: dict[str, list[str]]) -> dict[str, float]:
    """Scores with unpaired organs usually on the other side than ``side`` (and not named) times ``factor``."""
    moved = {}
    for name, score in scores.items():
        usual = usual_side(name)
        if usual and usual != side and name not in named:
            moved[name] = score * factor
            notes.setdefault(name, []).append(f"it usually lies on the {usual}, and the question says {side}")
        else:
            moved[name] = score
    return moved
