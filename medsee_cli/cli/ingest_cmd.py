"""`medsee ingest SOURCE... --out DIR`: PACS exports and image files to canonical NIfTI + catalog."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line

FAILED_EXIT = 1


@boundary
def ingest(
    sources: Annotated[list[Path], typer.Argument(help="Folders, zip files, DICOM or NIfTI/NRRD/MHA files.")],
    *,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: series/*.nii.gz, sidecars, catalog.sqlite.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="Threads for reading and decoding (default: CPU count).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo series that are already up to date.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List skipped files and notes.")] = False,
) -> None:
    """Convert every series found to a canonical NIfTI with a JSON sidecar, and catalog it.

    Walks the sources (PACS exports with mixed studies and series, extension-less DICOM names,
    zips, NIfTI/NRRD files), splits and sorts series, decodes every common transfer syntax and
    writes OUT/series/KEY.nii.gz + KEY.json, recorded in OUT/catalog.sqlite. Re-running does no
    work twice. A bad item gets one error line and the batch goes on; the exit code is 1 when
    any item failed. No patient identifiers are printed.
    """
    from medsee_cli.services.ingest import IngestOptions, ingest as run_ingest

    options = IngestOptions(out=out, force=force, **({"workers": workers} if workers else {}))
    if json_output or not sys.stderr.isatty():
        report = run_ingest(list(sources), options)
    else:
        report = _with_progress(list(sources), options, run_ingest)
    for result in report.results:
        if result.status == "failed":
            error_line(f"{result.item}: {result.reason}")
    if json_output:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        _render(report, verbose)
    if not report.ok:
        raise typer.Exit(FAILED_EXIT)


def _with_progress(sources, options, run_ingest):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("scanning", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what[:50], completed=done, total=total or None)

        return run_ingest(sources, options, progress)


def _render(report, verbose: bool) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=None, show_edge=False, header_style="bold")
    for column in ("series", "modality", "shape", "status", "output"):
        table.add_column(column)
    shown = [r for r in report.results if r.status in ("written", "up-to-date")]
    for r in shown:
        table.add_row(r.key or "", r.modality or "", "x".join(map(str, r.shape or ())), r.status, r.nifti or "")
        if verbose:
            for note in r.notes:
                table.add_row("", "", "", "note", note)
    if shown:
        console.print(table)
    if verbose:
        for r in report.results:
            if r.status == "skipped":
                print(f"skipped: {r.item}: {r.reason}", file=sys.stderr)
    skipped = report.count("skipped")
    hint = " (--verbose lists them)" if skipped and not verbose else ""
    console.print(
        f"{report.count('written')} written, {report.count('up-to-date')} up to date, "
        f"{report.count('failed')} failed, {skipped} skipped{hint}; catalog: {report.catalog}",
        highlight=False,
    )
