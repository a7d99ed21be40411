"""Each knowledge-base target's `Placement` (where it may lie, what shape a normal one takes), for the
anatomy guard: its side from the knowledge base, its body regions from ``body_regions.yaml``, and the
rest from ``placement.yaml``. A name the knowledge base does not hold (a free prompt) may lie anywhere."""

from __future__ import annotations

import functools
from typing import Any

from medsee_cli.anatomy.placement import ANYWHERE, Placement
from medsee_cli.reasoning import data
from medsee_cli.reasoning.knowledge import load_knowledge
from medsee_cli.reasoning.scan import load_body_regions

PLACEMENT_RESOURCE = "placement.yaml"


@functools.lru_cache(maxsize=1)
def _facts() -> dict[str, dict[str, Any]]:
    raw = data.read(PLACEMENT_RESOURCE) or {}
    return {str(name): dict(facts or {}) for name, facts in (raw.get("targets") or {}).items()}


@functools.lru_cache(maxsize=None)
def placement_of(name: str) -> Placement:
    """The placement the guard holds ``name``'s finding to."""
    kb = load_knowledge()
    if name not in kb:
        return ANYWHERE
    side = kb.get(name).side()
    facts = _facts().get(name)
    if facts is None:
        return Placement(side=side)
    volume, hu = facts.get("volume_ml"), facts.get("hu")
    return Placement(regions=load_body_regions(kb).of(name), in_trunk=True, side=side,
                     usual_side=str(facts.get("usual_side") or ""), pieces=int(facts.get("pieces") or 0),
                     per_side=bool(facts.get("per_side")),
                     volume_ml=(float(volume[0]), float(volume[1])) if volume else None,
                     hu=(float(hu[0]), float(hu[1])) if hu else None, within=str(facts.get("within") or ""),
                     not_within=tuple(str(n) for n in facts.get("not_within") or ()))


def usual_side(name: str) -> str:
    """Where an unpaired organ normally lies ('left', 'right'; '' when not stated or not one-sided)."""
    return str(_facts().get(name, {}).get("usual_side") or "")
