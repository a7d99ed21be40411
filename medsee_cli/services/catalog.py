"""The ingest catalog: one SQLite file under the output folder.

Tables: ``series`` (one row per written series: key, UIDs, modality, shape, output paths and
the fingerprint of its input files) and ``file_headers`` (a cache of frame headers keyed by
path, size and mtime, so a re-run over an unchanged export parses nothing). No patient
attribute is stored.
"""

from __future__ import annotations

import json
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
CREATE TABLE IF NOT EXISTS file_headers (
    location TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    headers TEXT NOT NULL
);
"""


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
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, headers FROM file_headers WHERE location = ?", (str(location),)
            ).fetchone()
        if row is None or row[0] != size or row[1] != mtime:
            return None
        return [FrameHeader.from_json(item) for item in json.loads(row[2])]

    def put(self, location: Location, headers: list[FrameHeader]) -> None:
        try:
            size, mtime = location.stat_key()
        except OSError:
            return
        payload = json.dumps([h.to_json() for h in headers])
        with self._lock:
            self._pending.append((str(location), size, mtime, payload))
            if len(self._pending) >= 500:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending:
            self._db.executemany(
                "INSERT OR REPLACE INTO file_headers VALUES (?, ?, ?, ?)", self._pending
            )
            self._db.commit()
            self._pending.clear()

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
        return SeriesRecord(*row[:6], tuple(json.loads(row[6])), row[7], row[8])  # type: ignore[arg-type]

    def record(self, rec: SeriesRecord, version: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec.key, rec.kind, rec.fingerprint, rec.study_instance_uid, rec.series_instance_uid,
                    rec.modality, json.dumps(list(rec.shape)), rec.nifti, rec.sidecar, version, time.time(),
                ),
            )
            self._db.commit()

    def all_series(self) -> list[SeriesRecord]:
        with self._lock:
            keys = [r[0] for r in self._db.execute("SELECT key FROM series ORDER BY key").fetchall()]
        return [rec for key in keys if (rec := self.lookup(key)) is not None]
