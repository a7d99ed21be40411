"""`medsee export RESULT --format ...`: convert a result to DICOM-SEG, NIfTI, JSON, RTSTRUCT or PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, warning_line


@boundary
def export(
    result: Annotated[Path, typer.Argument(help="A result folder, a label-map NIfTI (labels in <name>.labels.json "
                                                "or labels.json beside it) or a DICOM-SEG file.")],
    *,
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="dicom-seg, nifti, json, rtstruct or png.")] = "nifti",
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Output file, or folder (an existing one or a name without suffix; the format's usual "
                            "name goes inside it: seg.dcm, mask.nii.gz...). "
                            "Default: inside RESULT when it is a result folder; required when RESULT is a file.")] = None,
    source: Annotated[Optional[Path], typer.Option(
        "--source", help="The source image the mask lies on: a DICOM series (needed for dicom-seg and "
                         "rtstruct when the result has no DICOM behind it) or a NIfTI (intensities).")] = None,
    seg_type: Annotated[str, typer.Option("--seg-type", help="BINARY (widest support) or LABELMAP "
                                                             "(RLE-compressed label-map SEG).")] = "BINARY",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.")] = False,
) -> None:
    """Convert a result to the file formats radiology software opens.

    Where the file goes: --out (a file, or a folder), else inside RESULT when it is a result
    folder; nothing is ever written beside an input file. A DICOM output the source headers
    cannot honestly support (e.g. no SeriesInstanceUID) is not written: one warning line, exit 6.
    """
    from medsee_cli.errors import ExitCode, UsageError
    from medsee_cli.writers.export import export_result
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.skipped import skipped_text

    try:
        options = WriterOptions(overwrite=overwrite, seg_type=seg_type)
    except ValueError as exc:
        raise UsageError("--seg-type", str(exc)) from exc
    written = export_result(result, format, out, source=source, options=options)
    for kind, path in written.files.items():
        print(f"{kind}\t{path}")
    for fmt, reason in written.skipped.items():
        warning_line(f"{source if source is not None else result}: {skipped_text(fmt, reason)}")
    if written.skipped:
        raise typer.Exit(ExitCode.WARNINGS)
