"""`ingest` from a DICOMweb server: QIDO-RS search, WADO-RS retrieve, then the folder steps.

Per server: one search (``--study`` / ``--modality`` / ``--since``), then per series:

1. Not an image series by its Modality (SEG, RTSTRUCT, SR, ...): skipped without a download
   (medsee's own SEGs pushed back into a study are not fetched every night).
2. Up to date: the catalog's ``remote_series`` row has the same fingerprint (series UID + the
   number of instances QIDO reports, or the SOP Instance UIDs where it reports none) and every
   key it became is still on disk: nothing is downloaded.
3. Otherwise the series is fetched into a private folder (``.dicomweb-*.PID.partial``, mode
   0700, under OUT or under ``keep_dicom``; removed afterwards, or by the next run after a kill)
   and goes through the header scan, series assembly and writing a folder goes through, so keys,
   NIfTI files, sidecars and catalog rows are the ones a folder export of the same files gives.
   A bad instance is one line naming it (``URL/studies/S/series/X/instances/I``), never a
   temporary path. With ``keep_dicom`` a series ingested without failure is then renamed,
   complete, to ``keep_dicom/<StudyInstanceUID>/<SeriesInstanceUID>/`` (a DICOM source for
   `segment` and `export`, so a SEG can reference it), and "up to date" also needs it there.
   The catalog records that folder for the series' key (`series_files.remember_kept`), so
   `segment` on the ingest folder reads the series from it and writes a DICOM-SEG.

A search or download that fails after the retries is one failed item; the batch goes on, and
the next run fetches what is missing (a series with any failure is not marked as done).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.discover import scan_headers
from medsee_cli.io.dicom.series import assemble
from medsee_cli.pacs.client import Server
from medsee_cli.pacs.config import Endpoint
from medsee_cli.pacs.options import NetOptions
from medsee_cli.pacs.retrieve import Retrieved, retrieve_series
from medsee_cli.pacs.retry import Breaker, NetworkError
from medsee_cli.pacs.search import RemoteSeries, list_instances, search_series
from medsee_cli.services.catalog import Catalog, RemoteRecord
from medsee_cli.services.ingest import (CATALOG_NAME, FORMAT_VERSION, IngestOptions, ItemResult, Progress,
                                        ingest_plan, internal_reason, not_scanned, up_to_date)
from medsee_cli.services.series_files import remember_kept

# Modalities whose series hold no image volume (PS3.3 C.7.3.1.1.1); fetched, they would only be skipped
NON_IMAGE_MODALITIES = frozenset({"SEG", "RTSTRUCT", "RTPLAN", "RTRECORD", "RTDOSE", "SR", "KO", "PR", "REG",
                                  "FID", "DOC", "PLAN", "AU", "ECG", "HD", "RWV", "SMR", "RESP", "EPS"})
TEMP_PREFIX = ".dicomweb-"


def remote_fingerprint(series_instance_uid: str, instances: int, sop_instance_uids: tuple[str, ...] | None) -> str:
    """What says "unchanged" for a series on a server, known from QIDO before any download."""
    digest = hashlib.sha1(f"{FORMAT_VERSION}\0dicomweb\0{series_instance_uid}\0{instances}".encode())
    for uid in sop_instance_uids or ():
        digest.update(f"\0{uid}".encode())
    return digest.hexdigest()


def ingest_servers(endpoints: list[Endpoint], options: IngestOptions, report: Progress) -> list[ItemResult]:
    results: list[ItemResult] = []
    network = options.network or NetOptions()
    with Catalog(options.out / CATALOG_NAME) as catalog:
        for endpoint in endpoints:
            with Server(endpoint, network) as server:
                results += _ingest_server(server, options, catalog, report)
    return results


def _series_label(remote: RemoteSeries, modality: str | None, key: str) -> str:
    number = remote.series_number if remote.series_number is not None else "?"
    return f"series {number} ({modality or remote.modality or '?'}, {key})"


def _ingest_server(server: Server, options: IngestOptions, catalog: Catalog, report: Progress) -> list[ItemResult]:
    breaker = Breaker()
    report(f"searching {server.name}", 0, 0)
    try:
        found = search_series(server, options.filters, breaker)
    except NetworkError as exc:
        return [ItemResult(server.name, "failed", reason=f"search failed: {exc.reason}")]
    results = [ItemResult(item, "failed", reason=why) for item, why in found.failures]
    total = len(found.series)
    for done, remote in enumerate(found.series):
        name = server.resource(remote.study_instance_uid, remote.series_instance_uid)
        report(f"series {remote.series_number if remote.series_number is not None else '?'} "
               f"({remote.modality or '?'})", done, total)
        try:
            results += _ingest_series(server, remote, name, options, catalog, breaker)
        except NetworkError as exc:
            catalog.remote_forget(remote.series_instance_uid)
            results.append(ItemResult(name, "failed", reason=exc.reason))
        except OSError as exc:  # the private folder (disk full, permissions)
            catalog.remote_forget(remote.series_instance_uid)
            results.append(ItemResult(name, "failed", reason=f"cannot be stored for reading ({exc.strerror or exc})"))
        except Exception as exc:  # one broken series must never stop the batch
            catalog.remote_forget(remote.series_instance_uid)
            results.append(ItemResult(name, "failed", reason=internal_reason(exc)))
    report("done", total, total)
    return results


def _ingest_series(server: Server, remote: RemoteSeries, name: str, options: IngestOptions, catalog: Catalog,
                   breaker: Breaker) -> list[ItemResult]:
    uid = remote.series_instance_uid
    if remote.modality and remote.modality.upper() in NON_IMAGE_MODALITIES:
        return [ItemResult(name, "skipped", reason=f"not an image series (Modality {remote.modality})")]
    count, listed = remote.instances, None
    if count is None:  # the server does not count: the instance list says what "unchanged" means
        listed = list_instances(server, remote, breaker)
        count = len(listed)
    if count == 0:
        return [ItemResult(name, "skipped", reason="the server lists no instances in this series")]
    if not options.force:
        done = _up_to_date(catalog, remote, name, remote_fingerprint(uid, count, listed), options.keep_dicom, count)
        if done is not None:
            return done
    if options.keep_dicom is not None:
        options.keep_dicom.mkdir(parents=True, exist_ok=True)
    where = options.keep_dicom if options.keep_dicom is not None else options.out  # same file system as the end
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, suffix=f".{os.getpid()}.partial", dir=where))
    try:
        got = retrieve_series(server, remote, folder, breaker)
        if not got.files:
            catalog.remote_forget(uid)
            return [ItemResult(name, "failed", reason="the server sent no instances")]
        # the fingerprint of what arrived (the series may have grown since the search)
        sops = tuple(sorted(got.sop_instance_uids)) if listed is not None else None
        fingerprint = remote_fingerprint(uid, len(got.files), sops)
        results = _ingest_retrieved(got, folder, server, remote, name, fingerprint, options, catalog)
        failed = any(r.status == "failed" for r in results)
        kept: Path | None = None
        if options.keep_dicom is not None and not failed:
            kept = kept_folder(options.keep_dicom, remote)
            _keep(folder, kept)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    keys = tuple(r.key for r in results if r.status == "written" and r.key)
    notes = remember_kept(catalog, keys, kept)  # written without a kept folder: no record
    results = [replace(r, notes=r.notes + notes) if r.status == "written" else r for r in results]
    if failed:
        catalog.remote_forget(uid)  # the next run tries the whole series again
    else:
        skipped = "; ".join(dict.fromkeys(r.reason or "" for r in results if r.status == "skipped")) or None
        catalog.remote_record(RemoteRecord(uid, fingerprint, keys, None if keys else (skipped or "no image")[:300]))
    return results


def kept_folder(root: Path, remote: RemoteSeries) -> Path:
    """Where ``--keep-dicom`` keeps a series (UIDs are digits and dots: no patient data in the path)."""
    return root / remote.study_instance_uid / remote.series_instance_uid


def _keep(folder: Path, target: Path) -> None:
    """``folder`` becomes ``target`` by renames, so a reader sees the old series or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.{os.getpid()}.partial")
    if target.exists():
        os.replace(target, old)
    os.replace(folder, target)
    shutil.rmtree(old, ignore_errors=True)


def _up_to_date(catalog: Catalog, remote: RemoteSeries, name: str, fingerprint: str,
                keep: Path | None, count: int) -> list[ItemResult] | None:
    record = catalog.remote_lookup(remote.series_instance_uid)
    if record is None or record.fingerprint != fingerprint:
        return None
    kept = kept_folder(keep, remote) if keep is not None and record.keys else None
    if kept is not None and (not kept.is_dir() or sum(1 for p in kept.iterdir() if p.is_file()) != count):
        return None  # asked to keep the files, and they are not (all) there
    if not record.keys:
        return [ItemResult(name, "skipped", reason=record.skipped or "no image")]
    results: list[ItemResult] = []
    for key in record.keys:
        existing = up_to_date(catalog, key, fingerprint)
        if existing is None:
            return None
        results.append(ItemResult(_series_label(remote, existing.modality, key), "up-to-date", key,
                                  nifti=existing.nifti, sidecar=existing.sidecar, modality=existing.modality,
                                  shape=existing.shape))
    if kept is not None:  # kept and intact: (re)recorded, e.g. for a catalog from before the record existed
        notes = remember_kept(catalog, record.keys, kept)
        results = [replace(r, notes=r.notes + notes) for r in results]
    return results


def _renamer(folder: Path, got: Retrieved, server: Server, remote: RemoteSeries, name: str) -> Callable[[str], str]:
    """Temporary file paths in a message -> the instance's DICOMweb name; the folder -> the series."""
    names = {str(path): server.resource(remote.study_instance_uid, remote.series_instance_uid, uid or f"#{n + 1}")
             for n, (path, uid) in enumerate(zip(got.files, got.sop_instance_uids))}

    def rename(text: str) -> str:
        if str(folder) not in text:
            return text
        for path, instance in names.items():
            text = text.replace(path, instance)
        return text.replace(str(folder), name)

    return rename


def _ingest_retrieved(got: Retrieved, folder: Path, server: Server, remote: RemoteSeries, name: str,
                      fingerprint: str, options: IngestOptions, catalog: Catalog) -> list[ItemResult]:
    rename = _renamer(folder, got, server, remote, name)

    def named(result: ItemResult) -> ItemResult:
        item = rename(result.item)
        if result.status == "failed" and server.name not in item:
            item = f"{name}: {item}"
        notes = result.notes + (("the server sent its default transfer syntax, not the stored one",)
                                if got.transcoded and result.status == "written" else ())
        return replace(result, item=item, reason=rename(result.reason) if result.reason else None,
                       notes=tuple(rename(n) for n in notes))

    locations = tuple(Location(str(path)) for path in got.files)
    scan = scan_headers(locations, workers=options.workers, cache=None)  # no cache rows for temporary files
    results = [named(not_scanned(item, why)) for item, why in scan.skipped]
    results += [named(ItemResult(e.item, "failed", reason=e.reason)) for e in scan.failures]
    assembly = assemble(list(scan.headers))
    results += [named(ItemResult(e.item, "failed", reason=e.reason)) for e in assembly.failures]
    plain = replace(options, store_paths=False)  # the files are gone after this call: never name them
    for plan in assembly.plans:
        results.append(named(ingest_plan(plan, plain, catalog, fingerprint)))
    return results
