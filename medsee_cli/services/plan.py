"""From a question and a scan to the targets the model outlines: the one rule `ask` and `eval --model` follow.

The reasoner ranks hypotheses for the scan in view (or abstains); those the model cannot
outline are skipped with the reason; of the rest, a question that names its targets ("where is
the liver?") gets those plus ``related`` more (never a substitute when the model cannot outline
what was named), and one that only points at them (a symptom, a
cause) gets the ``max_targets`` best, in the reasoner's order. Every target left out is listed
with why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from medsee_cli.reasoning.resolution import Reasoner, Resolution
    from medsee_cli.reasoning.scan import ScanContext


@dataclass(frozen=True)
class TargetRule:
    """How many hypotheses become targets (see the module docstring)."""

    max_targets: int = 3
    related: int = 0

    def __post_init__(self) -> None:
        if self.max_targets < 1 or self.related < 0:
            raise ValueError("max_targets must be >= 1 and related >= 0")


@dataclass(frozen=True)
class TargetPlan:
    """What one question asks the model to outline in one scan."""

    resolution: Resolution
    scan: ScanContext
    names: tuple[str, ...] = ()  # segmented, best first
    skipped: dict[str, str] = field(default_factory=dict)  # hypothesis -> why it is not segmented

    @property
    def abstained(self) -> bool:
        return self.resolution.abstained or not self.resolution.hypotheses


def display_name(name: str) -> str:
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    return kb.get(name).display if name in kb else name.replace("_", " ")


def plan_targets(question: str, volume: Any, reasoner: Reasoner, model_targets: Callable[[], Optional[tuple[str, ...]]],
                 rule: TargetRule = TargetRule(), scan: Optional[ScanContext] = None) -> TargetPlan:
    """Resolve ``question`` for ``volume`` and choose the targets ``rule`` allows.
    ``model_targets()``: what the checkpoint was trained on (``None``: the knowledge base decides);
    called only when there is something to segment, so an abstention never loads the model.
    ``scan``: the volume's `scan_context` when the caller has it already (several questions
    about one volume); None: worked out here."""
    from medsee_cli.reasoning.scan import scan_context
    from medsee_cli.services.targets import segmentable_targets

    scan = scan if scan is not None else scan_context(volume)
    resolution = reasoner.resolve(question, scan=scan)
    if resolution.abstained or not resolution.hypotheses:
        return TargetPlan(resolution, scan)
    names, skipped = segmentable_targets(list(resolution.names()), model_targets())
    chosen, not_run = choose_targets(names, resolution.named, rule)
    return TargetPlan(resolution, scan, tuple(chosen), {**skipped, **not_run})


def choose_targets(names: list[str], named: tuple[str, ...], rule: TargetRule) -> tuple[list[str], dict[str, str]]:
    """Which of the segmentable hypotheses ``names`` (best first) to segment, and why the rest are not.

    ``named``: the targets the question names, segmentable or not. A question that names its
    target never gets another one outlined in its place: if the model cannot outline what was
    named, only ``related`` extra targets (default none) are segmented, and the answer says why."""
    if named:
        said = [n for n in names if n in named]
        others = [n for n in names if n not in said]
        keep = said + others[: rule.related]
        why = ("the question names " + ", ".join(display_name(n) for n in named)
               + f"; --related {rule.related + 1} also outlines the next related target")
    else:
        keep = names[: rule.max_targets]
        why = f"only the {rule.max_targets} best-ranked targets are segmented"
    return keep, {n: why for n in names if n not in keep}
