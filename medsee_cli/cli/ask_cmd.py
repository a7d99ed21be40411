"""`medsee ask IMAGE QUESTION`: reasoning -> targets -> segmentation -> answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.cli.pending import not_yet


@boundary
def ask(
    image: Annotated[Path, typer.Argument(help="NIfTI/NRRD file, DICOM series folder or zip.")],
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    *,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the output files.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable result.")] = False,
) -> None:
    """Ask a scan a question in plain words; get the answer, a mask, boxes and a preview."""
    not_yet("ask", "it arrives with the reasoning and model work")
