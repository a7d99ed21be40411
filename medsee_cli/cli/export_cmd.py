"""`medsee export RESULT --format ...`: convert a result to DICOM-SEG, NIfTI, JSON, RTSTRUCT or PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary
from medsee_cli.cli.pending import not_yet


@boundary
def export(
    result: Annotated[Path, typer.Argument(help="A result folder or a label-map NIfTI.")],
    *,
    format: Annotated[str, typer.Option("--format", help="dicom-seg, nifti, json, rtstruct or png.")] = "nifti",
    out: Annotated[Optional[Path], typer.Option("--out", help="Output path.")] = None,
    source: Annotated[Optional[Path], typer.Option("--source", help="The source DICOM series.")] = None,
) -> None:
    """Convert a result to the file formats radiology software opens."""
    not_yet("export", "it arrives with the output writers")
