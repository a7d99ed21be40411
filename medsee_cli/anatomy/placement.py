"""`Placement`: where one target may lie and what shape a normal one takes, as the guard checks it.

Built by the knowledge base's side (`medsee_cli.reasoning.placement`) from its entries and
``placement.yaml``; the anatomy part itself knows no target names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

SIDES = ("left", "right")


@dataclass(frozen=True)
class Placement:
    """``regions``: the body regions the target lies in (empty: anywhere); ``in_trunk``: it never
    lies in an arm or outside the body; ``side``: a lateral target's side (pieces on the other
    side are dropped); ``usual_side``: where an unpaired organ normally lies (the other side is
    only flagged: situs inversus exists); ``pieces``: 1 keeps the largest piece (a single organ),
    0 any number; ``per_side``: one piece on each side (the two kidneys); ``volume_ml``: the range
    outside which a finding is flagged as implausible; ``hu``: the range of mean Hounsfield units
    on CT outside which it is flagged (air-filled lungs, solid organs that are not air or fat);
    ``within``: the organ a lesion lies in, ``not_within``: organs beside it that the lesion is
    not (`anatomy.host`: a piece lying mostly outside the one or inside the others is dropped)."""

    regions: frozenset[str] = frozenset()
    in_trunk: bool = False
    side: str = ""
    usual_side: str = ""
    pieces: int = 0
    per_side: bool = False
    volume_ml: Optional[tuple[float, float]] = None
    hu: Optional[tuple[float, float]] = None
    within: str = ""
    not_within: tuple[str, ...] = ()

    def as_companion(self) -> Placement:
        """The placement of this target looked for only on some slices, to check another against
        (`anatomy.host`): its outline covers part of it, so neither its pieces nor its volume say anything."""
        return replace(self, pieces=0, per_side=False, volume_ml=None)

    @property
    def companions(self) -> tuple[str, ...]:
        """The other targets whose outlines this one's finding is held to (`anatomy.host`)."""
        return ((self.within,) if self.within else ()) + self.not_within

    def __post_init__(self) -> None:
        if self.side and self.side not in SIDES or self.usual_side and self.usual_side not in SIDES:
            raise ValueError(f"a side is one of {SIDES}")
        if self.pieces not in (0, 1):
            raise ValueError("pieces is 0 (any number) or 1 (one organ)")
        if self.volume_ml is not None and not 0 <= self.volume_ml[0] < self.volume_ml[1]:
            raise ValueError("volume_ml is [low, high] with 0 <= low < high")
        if self.hu is not None and not self.hu[0] < self.hu[1]:
            raise ValueError("hu is [low, high] with low < high")


ANYWHERE = Placement()
