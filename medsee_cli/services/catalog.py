"""The ingest catalog: one SQLite file under the output folder.

Tables: ``series`` (one row per written series: key, UIDs, modality, shape, output paths
relative to the catalog's folder, and the fingerprint of its input files), ``header_cache`` (frame
headers keyed by a hash of the file's path, its size and mtime, so a re-run over an unchanged
export parses nothing) and ``skipped_files`` (files that are not images, same key, so a re-run
does not read them again). ``remote_series`` remembers which series of a DICOMweb server were
ingested, as what (its keys) and from what (a fingerprint of the series UID and its number of
instances), so a re-run downloads nothing unchanged. ``dicom_files`` says where a series' DICOM
files lie, for a DICOM-SEG (services/series_files.py). No patient attribute and no source path is
stored unless ``--store-paths`` allows it: source folders are often named after patients, so paths
otherwise appear only as SHA-256 digests (a ``--keep-dicom`` folder is named by UIDs only).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.discover import HeaderCache
from medsee_cli.io.dicom.header import FrameHeader

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    study_instance_uid TEXT,
    series_instance_uid TEXT,
    modality TEXT,
    shape TEXT,
    nifti TEXT NOT NULL,
    sidecar TEXT NOT NULL,
    medsee_version TEXT,
    ingested_at REAL
);
CREATE TABLE IF NOT EXISTS header_cache (
    location_sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    headers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped_files (
    location_sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_series (
    series_instance_uid TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    keys TEXT NOT NULL,
    skipped TEXT,
    ingested_at REAL
);
CREATE TABLE IF NOT EXISTS dicom_files (
    key TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    recorded_at REAL
);
DROP TABLE IF EXISTS file_headers;
"""


def path_digest(text: str) -> str:
    """SHA-256 of a path as the file system spells it (names that are not UTF-8 included)."""
    return hashlib.sha256(os.fsencode(text)).hexdigest()


@dataclass(frozen=True)
class SeriesRecord:
    key: str
    kind: str
    fingerprint: str
    study_instance_uid: str | None
    series_instance_uid: str | None
    modality: str
    shape: tuple[int, ...]
    nifti: str
    sidecar: str


@dataclass(frozen=True)
class RemoteRecord:
    """A series of a DICOMweb server as last ingested: the catalog keys it became (several when
    it split), or why it was skipped (not an image series)."""

    series_instance_uid: str
    fingerprint: str
    keys: tuple[str, ...]
    skipped: str | None = None


@dataclass(frozen=True)
class DicomFiles:
    """The folder holding one series' DICOM files (and no other image series), and the
    fingerprint of its files when ingest saw them."""

    key: str
    folder: Path
    fingerprint: str


class Catalog(HeaderCache):
    """SQLite catalog; safe to use from the header-scanning threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._db.commit()
        self._pending: list[tuple[str, int, int, str]] = []
        self._pending_skips: list[tuple[str, int, int, str]] = []

    def close(self) -> None:
        self.flush()
        self._db.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # header cache
    def get(self, location: Location) -> list[FrameHeader] | None:
        try:
            size, mtime = location.stat_key()
        except OSError:
            return None
        row = self._row("header_cache", "headers", location, size, mtime)
        if row is None:
            return None
        name = str(location)  # the cache stores no path; each header gets it back here
        return [FrameHeader.from_json({**item, "location": name}) for item in json.loads(row)]

    def _row(self, table: str, column: str, location: Location, size: int, mtime: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT size, mtime_ns, {column} FROM {table} WHERE location_sha256 = ?",
                (path_digest(str(location)),),
            ).fetchone()
        if row is None or row[0] != size or row[1] != mtime:
            return None
        return str(row[2])

    def put(self, location: Location, headers: list[FrameHeader]) -> None:
        try:
            size, mtime = location.stat_key()
        except OSError:
            return
        payload = json.dumps([{**h.to_json(), "location": ""} for h in headers])
        with self._lock:
            self._pending.append((path_digest(str(location)), size, mtime, payload))
            if len(self._pending) >= 500:
                self._flush_locked()

    def get_skip(self, location: Location) -> str | None:
        try:
            size, mtime = location.stat_key()
        except OSError:
            return None
        return self._row("skipped_files", "reason", location, size, mtime)

    def put_skip(self, location: Location, reason: str) -> None:
        try:
            size, mtime = location.stat_key()
        except OSError:
            return
        with self._lock:
            self._pending_skips.append((path_digest(str(location)), size, mtime, reason))
            if len(self._pending_skips) >= 500:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending or self._pending_skips:
            self._db.executemany("INSERT OR REPLACE INTO header_cache VALUES (?, ?, ?, ?)", self._pending)
            self._db.executemany("INSERT OR REPLACE INTO skipped_files VALUES (?, ?, ?, ?)", self._pending_skips)
            self._db.commit()
            self._pending.clear()
            self._pending_skips.clear()

    # series
    def lookup(self, key: str) -> SeriesRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT key, kind, fingerprint, study_instance_uid, series_instance_uid, modality, shape, "
                "nifti, sidecar FROM series WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        nifti, sidecar = (str(self.path.parent / p) for p in (row[7], row[8]))  # relative to the catalog
        return SeriesRecord(row[0], row[1], row[2], row[3], row[4], row[5], tuple(json.loads(row[6])), nifti, sidecar)

    def record(self, rec: SeriesRecord, version: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec.key, rec.kind, rec.fingerprint, rec.study_instance_uid, rec.series_instance_uid,
                    rec.modality, json.dumps(list(rec.shape)), self._relative(rec.nifti), self._relative(rec.sidecar),
                    version, time.time(),
                ),
            )
            self._db.commit()

    def _relative(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return path

    # series of a DICOMweb server
    def remote_lookup(self, series_instance_uid: str) -> RemoteRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, keys, skipped FROM remote_series WHERE series_instance_uid = ?",
                (series_instance_uid,),
            ).fetchone()
        if row is None:
            return None
        return RemoteRecord(series_instance_uid, row[0], tuple(json.loads(row[1])), row[2])

    def remote_record(self, rec: RemoteRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO remote_series VALUES (?, ?, ?, ?, ?)",
                (rec.series_instance_uid, rec.fingerprint, json.dumps(list(rec.keys)), rec.skipped, time.time()),
            )
            self._db.commit()

    def remote_forget(self, series_instance_uid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM remote_series WHERE series_instance_uid = ?", (series_instance_uid,))
            self._db.commit()

    # where a series' DICOM files lie
    def dicom_lookup(self, key: str) -> DicomFiles | None:
        with self._lock:
            row = self._db.execute("SELECT folder, fingerprint FROM dicom_files WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        folder = os.path.normpath(self.path.parent.resolve() / row[0])  # a relative one: to the catalog's folder
        return DicomFiles(key, Path(folder), row[1])

    def dicom_record(self, key: str, folder: str, fingerprint: str) -> None:
        """``folder`` as it is to be stored: relative to the catalog's folder, or absolute."""
        with self._lock:
            stored = self._db.execute("SELECT folder, fingerprint FROM dicom_files WHERE key = ?", (key,)).fetchone()
            if stored is not None and tuple(stored) == (folder, fingerprint):
                return
            self._db.execute("INSERT OR REPLACE INTO dicom_files VALUES (?, ?, ?, ?)",
                             (key, folder, fingerprint, time.time()))
            self._db.commit()

    def dicom_forget(self, key: str) -> None:
        with self._lock:
            if self._db.execute("SELECT 1 FROM dicom_files WHERE key = ?", (key,)).fetchone() is not None:
                self._db.execute("DELETE FROM dicom_files WHERE key = ?", (key,))
                self._db.commit()

    def all_series(self) -> list[SeriesRecord]:
        with self._lock:
            keys = [r[0] for r in self._db.execute("SELECT key FROM series ORDER BY key").fetchall()]
        return [rec for key in keys if (rec := self.lookup(key)) is not None]
