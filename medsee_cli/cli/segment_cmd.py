"""`medsee segment IMAGE... --target NAME | --prompt TEXT`: explicit targets over many inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.cli.pending import not_yet


@boundary
def segment(
    images: Annotated[list[Path], typer.Argument(help="Images: NIfTI/NRRD files, DICOM folders or zips.")],
    *,
    target: Annotated[Optional[list[str]], typer.Option("--target", help="Target structure name (repeatable).")] = None,
    prompt: Annotated[Optional[list[str]], typer.Option("--prompt", help="Referring expression (repeatable).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output folder: one sub-folder per case.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
) -> None:
    """Segment named targets or referring expressions in many images."""
    not_yet("segment", "it arrives with the model and engine work")
