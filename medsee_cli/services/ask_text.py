"""The answer of `ask` as a person reads it (``medsee ask`` without ``--json``).

In this order, as the README's sample shows it (a test keeps the two in step):

1. the answer: what was looked for and why, one sentence per target (found where, how big, or
   not found; not segmented and why), the caveat;
2. ``Targets (best first):`` one line per hypothesis, ``  N. name (SNOMED CT code, score 0.58):
   rationale``; when two share a score, a last line says they are listed by name (the tie rule
   of `reasoning.resolution.ranked`);
3. ``Files:`` the files written, or that none were (no ``--out``);
4. how to open them in common viewers (`services.viewing`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from medsee_cli.services.ask import AskResult

TARGETS_HEADING = "Targets (best first):"
NO_FILES = "Files: none written (give --out FOLDER for the mask, boxes, preview and DICOM-SEG)."


def render(result: AskResult, out: Optional[Path]) -> str:
    """The whole text ``medsee ask`` prints; ``out`` is the ``--out`` folder given (or ``None``)."""
    blocks = [result.answer]
    targets = targets_block(result.targets)
    if targets:
        blocks.append("\n".join(targets))
    written = {name: path for name, path in result.outputs.items() if path}
    if written:
        blocks.append("\n".join(["Files: " + ", ".join(f"{name} {path}" for name, path in written.items()),
                                 *result.viewing]))
    elif out is None and result.findings:
        blocks.append(NO_FILES)
    return "\n\n".join(blocks)


def targets_block(targets: list[dict[str, Any]]) -> list[str]:
    """The ranked hypotheses, one line each, and the tie rule when it was used."""
    if not targets:
        return []
    lines = [TARGETS_HEADING]
    for n, target in enumerate(targets, start=1):
        code = f"SNOMED CT {target['code']}, " if target.get("code") else ""
        lines.append(f"  {n}. {target['name']} ({code}score {target['score']:.2f}): {target['rationale']}")
    tied = tied_names(targets)
    if tied:
        lines.append(f"  Equal scores are listed by name ({', '.join(tied)}).")
    return lines


def tied_names(targets: list[dict[str, Any]]) -> list[str]:
    """Names of hypotheses whose reported score another one shares, in their listed order."""
    scores = [t["score"] for t in targets]
    return [t["name"] for t in targets if scores.count(t["score"]) > 1]
