"""`ingest`: every series under the sources -> canonical NIfTI + JSON sidecar + catalog row.

A source is a file or folder, or a DICOMweb base URL (``http(s)://HOST[:PORT]/PATH``): its series
are found with QIDO-RS, fetched with WADO-RS into a private folder under the output folder and
go through the same steps as files (services/dicomweb_ingest.py).

Never stops on one bad item (each becomes a failed result naming the item and the reason),
never redoes a series whose input files are unchanged (fingerprint in the catalog), writes
every output atomically and never touches the inputs. One job at a time writes to an output
folder (`job_lock`: a second one is refused at once with a `UsageError`, as `segment` is),
the output folder is never read as a source, and temporary files left by a killed run are
removed by the next one. Where a series' DICOM files lie is recorded for `segment`'s DICOM-SEG
with ``--store-paths`` (folders) or ``--keep-dicom`` (DICOMweb): see `series_files`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from medsee_cli import __version__
from medsee_cli.errors import InputError, UsageError
from medsee_cli.io.atomic import remove_stale_partials, write_text_atomic
from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.discover import find_candidates, printable, scan_headers
from medsee_cli.io.dicom.header import NOT_DICOM
from medsee_cli.io.dicom.pixels import default_workers
from medsee_cli.io.dicom.reader import plan_to_volume
from medsee_cli.io.dicom.series import SeriesPlan, assemble
from medsee_cli.io.load import load_volume
from medsee_cli.io.nifti import write_nifti
from medsee_cli.io.volume import Volume
from medsee_cli.pacs.config import Endpoint, endpoint_for, is_dicomweb_url, load_settings
from medsee_cli.pacs.options import NetOptions
from medsee_cli.pacs.search import SearchFilters
from medsee_cli.services.catalog import Catalog, SeriesRecord
from medsee_cli.services.job_lock import job_lock
from medsee_cli.services.series_files import remember_source, stat_fingerprint
from medsee_cli.services.sidecar import build_sidecar

logger = logging.getLogger(__name__)
Status = Literal["written", "up-to-date", "failed", "skipped"]
CATALOG_NAME = "catalog.sqlite"
SERIES_FOLDER = "series"
FORMAT_VERSION = "1"  # bump when the output of an unchanged input would change


@dataclass(frozen=True)
class IngestOptions:
    out: Path
    workers: int = field(default_factory=default_workers)
    compresslevel: int = 1
    force: bool = False
    store_paths: bool = False  # full source paths in sidecars (off: folder names may name patients)
    filters: SearchFilters = SearchFilters()  # which series of a DICOMweb source (--study, --modality, --since)
    network: NetOptions | None = None  # timeouts and retries for DICOMweb sources (None: the config file's)
    keep_dicom: Path | None = None  # DICOMweb sources: keep each series' files in DIR/<study UID>/<series UID>/


@dataclass(frozen=True)
class ItemResult:
    item: str
    status: Status
    key: str | None = None
    reason: str | None = None
    nifti: str | None = None
    sidecar: str | None = None
    modality: str | None = None
    shape: tuple[int, ...] | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:  # names from the file system may hold bytes that are not UTF-8
        for name in ("item", "reason", "nifti", "sidecar"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, printable(value))

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "status": self.status,
            "key": self.key,
            "reason": self.reason,
            "nifti": self.nifti,
            "sidecar": self.sidecar,
            "modality": self.modality,
            "shape": list(self.shape) if self.shape else None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class IngestReport:
    results: tuple[ItemResult, ...]
    catalog: str
    removed_partials: int = 0  # temporary files of a killed earlier run, removed

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "medsee.ingest/1",
            "catalog": self.catalog,
            "written": self.count("written"),
            "up_to_date": self.count("up-to-date"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "removed_partials": self.removed_partials,
            "items": [r.to_dict() for r in self.results],
        }


Progress = Callable[[str, int, int], None]  # (what, done, total)
Notice = Callable[[str], None]  # one line for the user (a warning)


def check_out(out: Path, option: str = "--out") -> None:
    """Raise `UsageError` when ``out`` cannot be the output folder (before any work)."""
    if out.exists() and not out.is_dir():
        raise UsageError(option, f"{printable(str(out))} is a file, not a folder")
    if any(parent.exists() and not parent.is_dir() for parent in out.parents):
        raise UsageError(option, f"{printable(str(out))} lies below a file, not a folder")


def split_sources(sources: Sequence[Path | str]) -> tuple[list[Path], list[str]]:
    """(files and folders, DICOMweb URLs). A URL must come as a string: a `Path` folds its ``//``."""
    local: list[Path] = []
    urls: list[str] = []
    for source in sources:
        if isinstance(source, str) and is_dicomweb_url(source):
            urls.append(source)
        else:
            local.append(Path(source))
    return local, urls


def check_sources(sources: Sequence[Path | str], options: IngestOptions) -> tuple[list[Endpoint], IngestOptions]:
    """Raise `UsageError` before any work: a bad URL, a bad login set-up, filters with no URL.
    Returns the DICOMweb servers named, in order, and ``options`` with its network options set
    (the config file's ``[network]`` table when ``options.network`` is None)."""
    _, urls = split_sources(sources)
    if options.filters.given and not urls:
        option = "--study" if options.filters.studies else "--modality" if options.filters.modality else "--since"
        raise UsageError(option, "filters the series of a DICOMweb source; no source is a URL (http:// or https://)")
    if options.keep_dicom is not None:
        if not urls:
            raise UsageError("--keep-dicom", "keeps what a DICOMweb source sent; no source is a URL (http:// or https://)")
        check_out(options.keep_dicom, "--keep-dicom")
    if not urls:
        return [], options
    settings = load_settings()
    endpoints = [endpoint_for(url, settings) for url in urls]
    return endpoints, options if options.network is not None else replace(options, network=settings.network)


def ingest(
    sources: Sequence[Path | str], options: IngestOptions, progress: Progress | None = None,
    notice: Notice | None = None
) -> IngestReport:
    out = options.out
    check_out(out)
    local, _ = split_sources(sources)
    endpoints, options = check_sources(sources, options)
    for warning in dict.fromkeys(w for e in endpoints for w in e.warnings):
        (notice or logger.warning)(warning)
    try:
        (out / SERIES_FOLDER).mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UsageError("--out", f"{printable(str(out / SERIES_FOLDER))} is a file, not a folder") from exc
    except OSError as exc:
        raise UsageError("--out", f"{printable(str(out))} cannot be created ({exc.strerror or exc})") from exc

    with job_lock(out):
        removed = len(remove_stale_partials(out, folders=True)) + len(remove_stale_partials(out / SERIES_FOLDER))
        if options.keep_dicom is not None:
            removed += len(remove_stale_partials(options.keep_dicom, folders=True))
        report = progress or (lambda what, done, total: None)
        results = _run(local, options, report) if local or not endpoints else []
        if endpoints:
            from medsee_cli.services.dicomweb_ingest import ingest_servers

            results += ingest_servers(endpoints, options, report)
    return IngestReport(tuple(results), printable(str(out / CATALOG_NAME)), removed)


def _run(sources: list[Path], options: IngestOptions, report: Progress) -> list[ItemResult]:
    out = options.out
    results: list[ItemResult] = []
    candidates, source_errors = find_candidates(sources, exclude=(out,))
    results.extend(_failed(e) for e in source_errors)
    results.extend(ItemResult(item, "skipped", reason=why) for item, why in candidates.skipped)
    explicit = frozenset(str(s) for s in sources if s.is_file())
    with Catalog(out / CATALOG_NAME) as catalog:
        report("reading headers", 0, len(candidates.dicom))
        scan = scan_headers(candidates.dicom, explicit=explicit, workers=options.workers, cache=catalog)
        catalog.flush()
        results.extend(not_scanned(item, why) for item, why in scan.skipped)
        results.extend(_failed(e) for e in scan.failures)
        assembly = assemble(list(scan.headers))
        results.extend(_failed(e) for e in assembly.failures)
        total = len(assembly.plans) + len(candidates.images)
        done = 0
        ignorable = frozenset(os.path.abspath(item) for item, _ in (*candidates.skipped, *scan.skipped))
        for plan in assembly.plans:
            report(plan.label, done, total)
            result = ingest_plan(plan, options, catalog)
            if result.key and result.status in ("written", "up-to-date"):
                files = list(dict.fromkeys(f.location for f in plan.frames))
                notes = remember_source(catalog, result.key, files, ignorable, options.store_paths)
                result = replace(result, notes=result.notes + notes)
            results.append(result)
            done += 1
        for image in candidates.images:
            report(printable(Path(image.member or image.path).name), done, total)
            results.append(_ingest_image(image, options, catalog))
            done += 1
        report("done", total, total)
    return results


def _failed(error: InputError) -> ItemResult:
    return ItemResult(error.item, "failed", reason=error.reason)


DICOM_NAMES = (".dcm", ".dicom")


def not_scanned(item: str, why: str) -> ItemResult:
    """A file the header scan passed over: skipped (a text file, a report in an export), except
    one named like a DICOM file that is not one, which is damaged (zero bytes, cut short before
    its header, a download error page saved as .dcm): a failure, named on the error lines."""
    if why == NOT_DICOM and item.lower().endswith(DICOM_NAMES):
        return ItemResult(item, "failed", reason=f"{why}, though named like one (empty or damaged?)")
    return ItemResult(item, "skipped", reason=why)


def _fingerprint(parts: list[tuple[str, int, int]]) -> str:
    return stat_fingerprint(FORMAT_VERSION, parts)


def up_to_date(catalog: Catalog, key: str, fingerprint: str) -> SeriesRecord | None:
    """The catalog's record of ``key`` when it was made from ``fingerprint`` and its files exist."""
    record = catalog.lookup(key)
    if record is None or record.fingerprint != fingerprint:
        return None
    if not (Path(record.nifti).is_file() and Path(record.sidecar).is_file()):
        return None
    return record


def ingest_plan(plan: SeriesPlan, options: IngestOptions, catalog: Catalog, fingerprint: str | None = None) -> ItemResult:
    """One series plan -> NIfTI + sidecar + catalog row (or up to date). ``fingerprint`` given
    (a DICOMweb series, whose freshness was judged before it was fetched): always written, with it."""
    label = plan.label
    try:
        if fingerprint is None:
            stats = {f.location: Location.parse(f.location).stat_key() for f in plan.frames}
            fingerprint = _fingerprint([(loc, s, m) for loc, (s, m) in stats.items()])
            existing = None if options.force else up_to_date(catalog, plan.key, fingerprint)
            if existing is not None:
                return ItemResult(label, "up-to-date", plan.key, nifti=existing.nifti, sidecar=existing.sidecar,
                                  modality=existing.modality, shape=existing.shape)
        volume = plan_to_volume(plan, workers=options.workers)
        first = plan.first
        extra = {"series_number": first.series_number, "series_description": first.series_description}
        return _write(volume, plan.key, "dicom", fingerprint, options, catalog, label, extra)
    except InputError as exc:
        return ItemResult(label if exc.item == label else f"{label}: {exc.item}", "failed", plan.key, reason=exc.reason)
    except OSError as exc:
        return ItemResult(label, "failed", plan.key, reason=f"cannot be read ({exc.strerror or exc})")
    except Exception as exc:  # one broken series must never stop the batch
        return ItemResult(label, "failed", plan.key, reason=internal_reason(exc))


def _ingest_image(loc: Location, options: IngestOptions, catalog: Catalog) -> ItemResult:
    item = str(loc)
    try:
        resolved = Location(str(Path(loc.path).resolve()), loc.member)
        size, mtime = resolved.stat_key()
        kind = _image_kind(loc.member or loc.path)
        key = f"{kind}_{hashlib.sha1(os.fsencode(str(resolved))).hexdigest()[:10]}"
        fingerprint = _fingerprint([(str(resolved), size, mtime)])
        existing = None if options.force else up_to_date(catalog, key, fingerprint)
        if existing is not None:
            return ItemResult(item, "up-to-date", key, nifti=existing.nifti, sidecar=existing.sidecar,
                              modality=existing.modality, shape=existing.shape)
        if loc.member is None:
            return _write(load_volume(loc.path), key, kind, fingerprint, options, catalog, item, {})
        with tempfile.TemporaryDirectory(prefix="medsee-member-") as tmp:
            local = Path(tmp) / f"image{_image_suffix(loc.member)}"
            with loc.open() as src, open(local, "wb") as dst:  # streamed, within the member limits
                shutil.copyfileobj(src, dst, 1 << 20)
            return _write(load_volume(local), key, kind, fingerprint, options, catalog, item, {})
    except InputError as exc:
        return ItemResult(item, "failed", reason=exc.reason)
    except OSError as exc:
        return ItemResult(item, "failed", reason=f"cannot be read ({exc.strerror or exc})")
    except Exception as exc:  # one broken file must never stop the batch
        return ItemResult(item, "failed", reason=internal_reason(exc))


IMAGE_KINDS = {".nii.gz": "nifti", ".nii": "nifti", ".nrrd": "nrrd", ".nhdr": "nrrd", ".mha": "mha", ".mhd": "mha"}


def _image_suffix(name: str) -> str:
    lower = name.lower()
    return next((suffix for suffix in IMAGE_KINDS if lower.endswith(suffix)), "")


def _image_kind(name: str) -> str:
    """The key prefix of an image file: its format, never its name (names may name patients)."""
    return IMAGE_KINDS.get(_image_suffix(name), "image")


def internal_reason(exc: Exception) -> str:
    logger.debug("unexpected error", exc_info=exc)
    return f"unexpected error ({exc.__class__.__name__}: {str(exc)[:160]}); run with --debug for details"


def _write(volume: Volume, key: str, kind: str, fingerprint: str, options: IngestOptions, catalog: Catalog,
           label: str, extra: dict[str, Any]) -> ItemResult:
    folder = options.out / SERIES_FOLDER
    nifti = folder / f"{key}.nii.gz"
    sidecar = folder / f"{key}.json"
    write_nifti(volume, nifti, compresslevel=options.compresslevel)
    meta = build_sidecar(volume, key=key, kind=kind, fingerprint=fingerprint, extra=extra,
                         store_paths=options.store_paths)
    write_text_atomic(sidecar, json.dumps(meta, indent=1))
    refs = volume.refs
    record = SeriesRecord(
        key=key,
        kind=kind,
        fingerprint=fingerprint,
        study_instance_uid=refs.study_instance_uid if refs else None,
        series_instance_uid=refs.series_instance_uid if refs else None,
        modality=volume.modality,
        shape=volume.shape,
        nifti=str(nifti),
        sidecar=str(sidecar),
    )
    catalog.record(record, __version__)
    return ItemResult(label, "written", key, nifti=str(nifti), sidecar=str(sidecar), modality=volume.modality,
                      shape=volume.shape, notes=volume.notes)
