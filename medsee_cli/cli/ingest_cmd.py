"""`medsee ingest SOURCE... --out DIR`: PACS exports and image files to canonical NIfTI + catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medsee_cli.cli.boundary import boundary


@boundary
def ingest(
    sources: Annotated[list[Path], typer.Argument(help="Folders, zip files, DICOM or NIfTI/NRRD files.")],
    *,
    out: Annotated[Path, typer.Option("--out", help="Output folder (NIfTI, sidecars, catalog).")],
) -> None:
    """Convert every series found to a canonical NIfTI with a JSON sidecar, and catalog it."""
    raise NotImplementedError
