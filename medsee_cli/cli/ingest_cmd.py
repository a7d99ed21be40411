"""`medsee ingest SOURCE... --out DIR`: PACS exports, image files and DICOMweb servers to
canonical NIfTI + catalog."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional

import typer

from medsee_cli.cli.boundary import boundary, error_line, warning_line
from medsee_cli.errors import ExitCode

if TYPE_CHECKING:
    from medsee_cli.services.ingest import IngestOptions, IngestReport


@boundary
def ingest(
    sources: Annotated[list[str], typer.Argument(
        help="Folders, zip files, DICOM or NIfTI/NRRD/MHA files, or the base URL of a DICOMweb server "
             "(http(s)://HOST[:PORT]/PATH, e.g. http://pacs:8042/dicom-web).")],
    *,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: series/*.nii.gz, sidecars, catalog.sqlite.")],
    study: Annotated[Optional[list[str]], typer.Option(
        "--study", metavar="UID", help="DICOMweb sources: only this study (Study Instance UID); repeat for more.")] = None,
    modality: Annotated[Optional[str], typer.Option(
        "--modality", help="DICOMweb sources: only series of this modality (CT, MR, PT...).")] = None,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="YYYYMMDD", help="DICOMweb sources: only studies from this date on.")] = None,
    keep_dicom: Annotated[Optional[Path], typer.Option(
        "--keep-dicom", metavar="DIR",
        help="DICOMweb sources: keep each series' DICOM files in DIR/STUDY_UID/SERIES_UID/ and record it in "
             "the catalog, so 'medsee segment OUT' reads them and writes a DICOM-SEG.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="Threads for reading and decoding (default: CPU count).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo series that are already up to date.")] = False,
    store_paths: Annotated[
        bool,
        typer.Option(
            "--store-paths",
            help="Write full source paths into the sidecars and each series' DICOM folder into the catalog, "
            "so 'medsee segment OUT' reads them and writes a DICOM-SEG (off by default: export folders are "
            "often named after patients; sidecars and catalog then hold UIDs and geometry only).",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List skipped files and notes.")] = False,
) -> None:
    """Convert every series found to a canonical NIfTI with a JSON sidecar, and
    catalog it.

    Walks the sources (PACS exports with mixed studies and series,
    extension-less DICOM names, zips, NIfTI/NRRD files), splits and sorts
    series, decodes every common transfer syntax and writes
    OUT/series/KEY.nii.gz + KEY.json, recorded in OUT/catalog.sqlite.
    Re-running does no work twice: unchanged files (path, size, mtime) are
    neither parsed nor, when skipped before, read again. OUT itself and any
    other medsee output folder under a source are never ingested.

    One job at a time writes to OUT (lock file OUT/.medsee.lock): a second
    one stops at once, before any work, with one line naming the process
    that holds it (exit 2); run it again when that one has finished.
    Temporary files of a killed run are removed by the next one. A zip
    member may expand to at most 2 GiB, and a member over 64 MiB to at most
    200 times its compressed size; a larger one is a failed item.

    A DICOMweb source is searched with QIDO-RS (--study, --modality,
    --since), each series is fetched with WADO-RS into a private folder
    under OUT and ingested like files; a re-run fetches no series whose
    instance count is unchanged, and never fetches SEG, RTSTRUCT, SR and
    other non-image series. The login comes from MEDSEE_DICOMWEB_USER +
    MEDSEE_DICOMWEB_PASSWORD, MEDSEE_DICOMWEB_TOKEN or the config file
    (~/.config/medsee/dicomweb.toml, or MEDSEE_DICOMWEB_CONFIG), never from
    the command line; failed requests are retried with backoff (the
    file's [network] table), then each failed series is one line.

    A bad item (unreadable file or folder, broken series) gets one line and
    the batch goes on. Exit codes: 0 all done; 1 some items failed; 2 usage
    error (e.g. --out names a file) or OUT in use by another job, nothing
    done. No patient identifiers are
    printed or stored; source paths are stored only with --store-paths.
    """

    from dataclasses import replace

    from medsee_cli.pacs.search import SearchFilters
    from medsee_cli.services.ingest import IngestOptions, check_out, ingest as run_ingest

    check_out(out)
    filters = SearchFilters(tuple(study or ()), modality, since)
    options = IngestOptions(out=out, force=force, store_paths=store_paths, filters=filters, keep_dicom=keep_dicom)
    if workers:
        options = replace(options, workers=workers)
    if json_output or not sys.stderr.isatty():
        report = run_ingest(list(sources), options, notice=warning_line)
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
        raise typer.Exit(int(ExitCode.ITEMS_FAILED))


def _with_progress(sources: list[str], options: IngestOptions,
                   run_ingest: Callable[..., IngestReport]) -> IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("scanning", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what[:50], completed=done, total=total or None)

        return run_ingest(sources, options, progress, warning_line)


def _render(report: IngestReport, verbose: bool) -> None:
    if sys.stdout.isatty():
        _render_table(report, verbose)
    else:  # logs (cron, pipes): whole lines, never cut to a terminal width
        for r in report.results:
            if r.status in ("written", "up-to-date"):
                print("\t".join((r.key or "", r.modality or "", "x".join(map(str, r.shape or ())), r.status, r.nifti or "")))
                if verbose:
                    for note in r.notes:
                        print(f"\t\t\tnote\t{note}")
    if verbose:
        for r in report.results:
            if r.status == "skipped":
                print(f"skipped: {r.item}: {r.reason}", file=sys.stderr)
    print(_summary(report, verbose), flush=True)


def _summary(report: IngestReport, verbose: bool) -> str:
    skipped = report.count("skipped")
    hint = " (--verbose lists them)" if skipped and not verbose else ""
    cleaned = f"; removed {report.removed_partials} temporary files of an interrupted run" if report.removed_partials else ""
    return (
        f"{report.count('written')} written, {report.count('up-to-date')} up to date, "
        f"{report.count('failed')} failed, {skipped} skipped{hint}; catalog: {report.catalog}{cleaned}"
    )


def _render_table(report: IngestReport, verbose: bool) -> None:
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
