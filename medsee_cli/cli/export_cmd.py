"""`medsee export RESULT --format ...`: convert a result to DICOM-SEG, NIfTI, JSON, RTSTRUCT or PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line, warning_line

PUSHABLE = ("dicom-seg", "rtstruct")


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
    push: Annotated[Optional[str], typer.Option(
        "--push", metavar="URL",
        help="Then send the DICOM-SEG or RTSTRUCT with STOW-RS into its source study on this DICOMweb server "
             "(e.g. http://pacs:8042/dicom-web; login as for 'medsee ingest'). An existing output file is "
             "pushed as it is; what was pushed is recorded in pushed.json beside it, and a re-run pushes "
             "nothing already pushed.")] = None,
) -> None:
    """Convert a result to the file formats radiology software opens.

    Where the file goes: --out (a file, or a folder), else inside RESULT when it is a result
    folder; nothing is ever written beside an input file. A DICOM output the source headers
    cannot honestly support (e.g. no SeriesInstanceUID) is not written: one warning line, exit 6.

    With --push URL the DICOM-SEG or RTSTRUCT then goes to the PACS (STOW-RS into the study of
    its source, checked with QIDO), unless pushed.json beside it says it went there already or
    the server holds it already. stdout: FORMAT<tab>FILE for a file written, then
    pushed|already-pushed|already-there<tab>FILE; a push that still fails after the retries is
    one error line, exit 1.
    """
    from medsee_cli.errors import ExitCode, UsageError
    from medsee_cli.writers.export import export_result
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.skipped import skipped_text

    try:
        options = WriterOptions(overwrite=overwrite, seg_type=seg_type)
    except ValueError as exc:
        raise UsageError("--seg-type", str(exc)) from exc
    target: Optional[Path] = None
    if push is not None:
        from medsee_cli.services.push import check_destination
        from medsee_cli.writers.export import default_target

        if format not in PUSHABLE:
            raise UsageError("--push", f"sends DICOM objects: use it with --format dicom-seg or rtstruct, not {format}")
        endpoint, _ = check_destination(push)
        for warning in endpoint.warnings:
            warning_line(warning)
        target = default_target(result, format, out)
    if target is None or overwrite or not target.is_file():
        written = export_result(result, format, out, source=source, options=options)
        for kind, path in written.files.items():
            print(f"{kind}\t{path}")
        for fmt, reason in written.skipped.items():
            warning_line(f"{source if source is not None else result}: {skipped_text(fmt, reason)}")
        if written.skipped:
            raise typer.Exit(ExitCode.WARNINGS)
        target = written.files.get(format, target)
    if push is not None and target is not None:
        _push(push, target)


def _push(url: str, target: Path) -> None:
    from medsee_cli.errors import ExitCode
    from medsee_cli.services.push import RECORD_NAME, PushOptions, push_instances

    report = push_instances(url, [target], PushOptions(record=target.parent / RECORD_NAME))
    for item in report.items:
        if item.status == "failed":
            error_line(f"{item.item}: {item.reason}")
            continue
        print(f"{item.status}\t{item.item}")
        if item.reason:
            warning_line(f"{item.item}: {item.reason}")
    if not report.ok:
        raise typer.Exit(ExitCode.ITEMS_FAILED)
