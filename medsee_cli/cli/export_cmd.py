"""`medsee export RESULT --format ...`: convert a result to DICOM-SEG, NIfTI, JSON, RTSTRUCT or PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary


@boundary
def export(
    result: Annotated[Path, typer.Argument(help="A result folder, a label-map NIfTI (labels in <name>.labels.json "
                                                "or labels.json beside it) or a DICOM-SEG file.")],
    *,
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="dicom-seg, nifti, json, rtstruct or png.")] = "nifti",
    out: Annotated[Optional[Path], typer.Option("--out", "-o",
                                                help="Output file or folder (default: beside the result).")] = None,
    source: Annotated[Optional[Path], typer.Option(
        "--source", help="The source image the mask lies on: a DICOM series (needed for dicom-seg and "
                         "rtstruct when the result has no DICOM behind it) or a NIfTI (intensities).")] = None,
    seg_type: Annotated[str, typer.Option("--seg-type", help="BINARY (widest support) or LABELMAP "
                                                             "(RLE-compressed label-map SEG).")] = "BINARY",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.")] = False,
) -> None:
    """Convert a result to the file formats radiology software opens."""
    from medsee_cli.errors import InputError
    from medsee_cli.writers.export import export_result
    from medsee_cli.writers.options import WriterOptions

    try:
        options = WriterOptions(overwrite=overwrite, seg_type=seg_type)
    except ValueError as exc:
        raise InputError("--seg-type", str(exc)) from exc
    written = export_result(result, format, out, source=source, options=options)
    for kind, path in written.items():
        print(f"{kind}\t{path}")
