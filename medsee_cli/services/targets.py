"""Targets for a service: which of them the model can outline, and running the engine for them.

Shared by `ask` and `segment`, so both follow one rule: a checkpoint that lists what it was
trained on decides; otherwise the knowledge base's ``segmentable`` flag does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from medsee_cli.engine.findings import Finding
    from medsee_cli.engine.progress import Progress
    from medsee_cli.engine.stream import EngineRun, SliceEngine
    from medsee_cli.io.volume import Volume
    from medsee_cli.reasoning.target_text import TargetTexts


def segmentable_targets(names: list[str], model_targets: Optional[tuple[str, ...]]) -> tuple[list[str], dict[str, str]]:
    """Split hypothesis names into those to segment and those skipped (with the reason)."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    keep, skipped = [], {}
    for name in names:
        if model_targets is not None:
            if name in model_targets:
                keep.append(name)
            else:
                skipped[name] = "this model was not trained to outline it"
        elif name in kb and not kb.get(name).segmentable:
            skipped[name] = "this model cannot outline it"
        else:
            keep.append(name)
    return keep, skipped


def is_coded(name: str) -> bool:
    """A knowledge-base target (it has a coded type), not a free prompt."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    return name in load_knowledge()


def run_targets(engine: SliceEngine, volume: Volume, names: list[str], texts: TargetTexts,
                prompts: Optional[list[str]] = None,
                progress: Optional[Progress] = None) -> tuple[list[Finding], EngineRun]:
    """Stream ``volume`` once for all ``names`` and measure each target's finding.

    ``prompts`` (default: the names) is what the model looks for under each name: a
    knowledge-base name, or a free referring expression (``segment --prompt``); ``texts`` turns
    them into the vectors the model was trained on. The run's one modality decision
    (``run.modality``) is the one every finding is measured with. ``progress`` hears of the
    engine's passes and batches (`engine.progress`). A knowledge-base target's finding is held to
    its anatomy (`medsee_cli.reasoning.placement`: trunk, level, side, pieces); a free prompt's is not.
    A lesion's organ and neighbours that the model outlines and nobody asked for are looked for too,
    on the same slices, to check the lesion against (`medsee_cli.anatomy.host`), and not reported: the
    organ refined by LiteMedSAM only on slices where an asked target was found, the neighbours by the
    head's coarse mask alone (refining ten companions on every slice run took the jaundice question from
    25 s to 65 s)."""
    from medsee_cli.anatomy.placement import ANYWHERE
    from medsee_cli.engine.findings import find
    from medsee_cli.engine.progress import silent
    from medsee_cli.reasoning.placement import placement_of

    prompts = list(prompts) if prompts is not None else list(names)
    placements = [placement_of(name) if prompt == name else ANYWHERE for name, prompt in zip(names, prompts)]
    known = set(engine.model.trained_targets) - set(names)
    organs = list(dict.fromkeys(p.within for p in placements if p.within in known))
    neighbours = list(dict.fromkeys(n for p in placements for n in p.not_within if n in known and n not in organs))
    companions = organs + neighbours
    return find(engine, volume, names + companions, texts.vectors(prompts + companions), progress or silent,
                placements + [placement_of(c).as_companion() for c in companions], shown=len(names), refined=len(names) + len(organs))
