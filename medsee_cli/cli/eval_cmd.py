"""`medsee eval --dataset NAME`: score reasoning / referring segmentation the papers' way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.cli.pending import not_yet


@boundary
def eval_command(
    *,
    dataset: Annotated[str, typer.Option("--dataset", help="refhl-seg, mlmr-sd, manifest, reasoning or builtin.")],
    root: Annotated[Optional[Path], typer.Option("--root", help="Dataset folder or file.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Evaluate on a benchmark and print the papers' metrics."""
    not_yet("eval", "it arrives with the evaluation work")
