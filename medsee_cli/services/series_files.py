"""Where a catalog series' DICOM files lie, so that `segment` can read them again for a DICOM-SEG.

A DICOM-SEG copies the patient and study modules of its source images and references their SOP
instances, so a catalog case needs its DICOM files, not only its NIfTI. `ingest` records, per
series key (catalog table ``dicom_files``), a folder that holds this series' files and no other
image series, with a fingerprint of what lies in it (names relative to the folder, sizes, mtimes:
the rule ingest uses for "unchanged"):

- a DICOMweb series kept with ``--keep-dicom``: ``DIR/<StudyUID>/<SeriesUID>/``, stored relative
  to the catalog's folder (moved together, they still find each other; UIDs name no patient);
- a series read from a folder, only with ``--store-paths`` (folder names may name patients): the
  folder its files share, stored as an absolute path, when nothing else in it is an image.

A series written without such a folder (no ``--keep-dicom``, no ``--store-paths``, a series that
shares its folder with another) has its record removed, so a record always describes the files
the series' NIfTI was made from. `dicom_source` is the reading side: the folder while it holds
exactly what ingest saw, else the reason in one line (the case reads its NIfTI and says why it
gets no DICOM-SEG).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.discover import walk
from medsee_cli.services.catalog import Catalog, SeriesRecord

FOLDER_SEED = "medsee.series-files/1"
NO_SEG = "no DICOM-SEG: read from its NIfTI"
SHARED_NOTE = "its folder holds other images too: segment reads it from its NIfTI (no DICOM-SEG)"


def stat_fingerprint(seed: str, parts: Iterable[tuple[str, int, int]]) -> str:
    """SHA-1 over ``seed`` and each (name, size, mtime_ns), sorted: what says "unchanged"."""
    digest = hashlib.sha1(seed.encode())
    for name, size, mtime in sorted(parts):
        digest.update(os.fsencode(name) + f"\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()


def folder_fingerprint(folder: Path) -> str:
    """The fingerprint of every file a reader of ``folder`` meets (hidden files and medsee output
    folders left out, as `discover.walk` leaves them out). Raises `OSError` when it cannot be read."""
    listing = walk(folder)
    if listing.errors:
        raise OSError(listing.errors[0].reason)  # "folder cannot be read (...)"
    parts = []
    for path in listing.files:
        st = os.stat(path)
        parts.append((path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return stat_fingerprint(FOLDER_SEED, parts)


def own_folder(files: Sequence[str], ignorable: frozenset[str]) -> Path | None:
    """The folder ``files`` (one series, absolute paths) share when every other file in it is in
    ``ignorable`` (files ingest skipped as not images): reading that folder gives this series
    alone. None for zip members, or a folder that also holds other images."""
    if not files or any(Location.parse(f).member is not None for f in files):
        return None
    mine = {os.path.abspath(f) for f in files}
    folder = Path(os.path.commonpath([os.path.dirname(f) for f in mine]))
    listing = walk(folder)
    if listing.errors:
        return None
    others = {str(p) for p in listing.files} - mine
    return folder if others <= ignorable else None


def remember(catalog: Catalog, key: str, folder: Path | None, *, relative: bool) -> None:
    """Record ``folder`` as where ``key``'s DICOM files lie (``relative``: relative to the
    catalog's folder, else absolute), with its fingerprint now; None forgets the record."""
    if folder is None:
        catalog.dicom_forget(key)
        return
    resolved = folder.resolve()
    where = os.path.relpath(resolved, catalog.path.parent.resolve()) if relative else str(resolved)
    try:
        catalog.dicom_record(key, where, folder_fingerprint(resolved))
    except (OSError, UnicodeEncodeError):  # vanished meanwhile, or a name that is not UTF-8: no record
        catalog.dicom_forget(key)


def remember_source(catalog: Catalog, key: str, files: Sequence[str], ignorable: frozenset[str],
                    store_paths: bool) -> tuple[str, ...]:
    """After a folder ingest wrote ``key`` (or found it up to date): record the folder of its
    ``files`` with ``store_paths``, else forget any record. Returns notes for the item."""
    if not store_paths:
        catalog.dicom_forget(key)
        return ()
    folder = own_folder(files, ignorable)
    remember(catalog, key, folder, relative=False)
    return () if folder is not None else (SHARED_NOTE,)


def remember_kept(catalog: Catalog, keys: Sequence[str], kept: Path | None) -> tuple[str, ...]:
    """After a DICOMweb series became ``keys`` (``kept``: the folder ``--keep-dicom`` put its
    files in, else None): record it for a series that is alone in it, else forget the records.
    Returns notes for the items."""
    alone = kept if kept is not None and len(keys) == 1 else None
    for key in keys:
        remember(catalog, key, alone, relative=True)
    return (SHARED_NOTE,) if kept is not None and len(keys) > 1 else ()


@dataclass(frozen=True)
class DicomSource:
    """How a catalog series is read: ``folder`` (its DICOM files, verified) or None (its NIfTI),
    whether ingest recorded a folder at all, and why there is no DICOM-SEG (one line, or None)."""

    folder: Path | None
    recorded: bool
    warning: str | None


def dicom_source(catalog: Catalog, rec: SeriesRecord) -> DicomSource:
    """Where to read ``rec`` from: its DICOM folder while it holds exactly the files ingest saw;
    otherwise its NIfTI, with the reason (none for a series that could get no SEG anyway: not
    DICOM, or without a SeriesInstanceUID)."""
    if rec.kind != "dicom" or not rec.series_instance_uid:
        return DicomSource(None, False, None)
    files = catalog.dicom_lookup(rec.key)
    if files is None:
        return DicomSource(None, False, f"{NO_SEG}; ingest recorded no folder holding its DICOM files alone "
                                        "(ingest folders with --store-paths, DICOMweb sources with --keep-dicom)")
    if not files.folder.is_dir():
        return DicomSource(None, True, f"{NO_SEG}; its DICOM folder is gone")
    try:
        now = folder_fingerprint(files.folder)
    except OSError as exc:  # a walk error names the folder; a stat error a file
        why = f"files cannot be read ({exc.strerror})" if exc.strerror else str(exc)
        return DicomSource(None, True, f"{NO_SEG}; its DICOM {why}")
    if now != files.fingerprint:
        return DicomSource(None, True, f"{NO_SEG}; its DICOM files changed since ingest (run ingest again)")
    return DicomSource(files.folder, True, None)
