"""`push_instances`: DICOM files (a SEG, an RTSTRUCT) into their studies on a DICOMweb server.

For each file: read it (one failed item when it is not DICOM or names no study); skip it when
the push record already lists it for this server (same SOP Instance UID and same SHA-256 of the
file); else ask the server (QIDO) whether it holds the instance already (a lost record, another
machine's push); else STOW-RS it into its own study and ask QIDO again that it is there. Every
push and every instance found already there goes into the record at once, so a run killed half
way loses nothing it did. Network failures are retried (`NetOptions`), then one line per file;
the batch goes on, and the next run pushes what is missing.

The record (``medsee.pushed/1``, JSON, written atomically) holds UIDs, digests, file names and
the server's base URL: no patient attribute and no credentials.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.io.dicom.discover import printable
from medsee_cli.pacs.config import Endpoint, endpoint_for, load_settings
from medsee_cli.pacs.options import NetOptions
from medsee_cli.pacs.retry import Breaker, NetworkError

if TYPE_CHECKING:
    from medsee_cli.pacs.client import Server

PushStatus = Literal["pushed", "already-pushed", "already-there", "failed"]
RECORD_SCHEMA = "medsee.pushed/1"
RECORD_NAME = "pushed.json"


@dataclass(frozen=True)
class PushOptions:
    network: NetOptions | None = None  # None: the config file's [network] table, else the defaults
    record: Path | None = None  # the push record (e.g. RESULT/pushed.json); None: QIDO alone decides
    confirm: bool = True  # after each STOW, QIDO must list the instance


@dataclass(frozen=True)
class PushItem:
    item: str
    status: PushStatus
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"item": self.item, "status": self.status, "sop_instance_uid": self.sop_instance_uid,
                "study_instance_uid": self.study_instance_uid, "reason": self.reason}


@dataclass(frozen=True)
class PushReport:
    destination: str
    items: tuple[PushItem, ...]

    def count(self, status: PushStatus) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def to_dict(self) -> dict[str, object]:
        return {"schema": "medsee.push/1", "destination": self.destination,
                "pushed": self.count("pushed"), "already_pushed": self.count("already-pushed"),
                "already_there": self.count("already-there"), "failed": self.count("failed"),
                "items": [i.to_dict() for i in self.items]}


def check_destination(url: str) -> tuple[Endpoint, NetOptions]:
    """The server ``url`` names with its login, and the config file's network options;
    `UsageError` (before any work) when anything is wrong."""
    settings = load_settings()
    return endpoint_for(url, settings), settings.network


class PushRecord:
    """What was pushed where; kept in one JSON file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        if path is not None and path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if doc.get("schema") == RECORD_SCHEMA and isinstance(doc.get("pushed"), list):
                    self.entries = [e for e in doc["pushed"] if isinstance(e, dict)]
            except (OSError, ValueError, AttributeError):
                self.entries = []  # an unreadable record costs one QIDO per file, nothing more

    def has(self, destination: str, sop: str, sha256: str) -> bool:
        return any(e.get("destination") == destination and e.get("sop_instance_uid") == sop
                   and e.get("sha256") == sha256 for e in self.entries)

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        if self.path is not None:
            doc = {"schema": RECORD_SCHEMA, "pushed": self.entries}
            write_text_atomic(self.path, json.dumps(doc, indent=1))


def push_instances(url: str, paths: Sequence[Path], options: PushOptions = PushOptions()) -> PushReport:
    """Push every file in ``paths`` into its study on the DICOMweb server at ``url`` (see the
    module's description). Raises `UsageError` before any work for a bad URL or login set-up."""
    from medsee_cli.pacs.client import Server

    endpoint, network = check_destination(url)
    record = PushRecord(options.record)
    breaker = Breaker()
    items: list[PushItem] = []
    with Server(endpoint, options.network or network) as server:
        for path in paths:
            items.append(_push_one(server, Path(path), record, options, breaker))
    return PushReport(endpoint.url, tuple(items))


def _push_one(server: Server, path: Path, record: PushRecord, options: PushOptions, breaker: Breaker) -> PushItem:
    import pydicom
    from pydicom.errors import InvalidDicomError

    from medsee_cli.pacs.search import has_instance
    from medsee_cli.pacs.store import store_instance

    item = printable(str(path))
    try:
        data = path.read_bytes()
        ds = pydicom.dcmread(path)
    except OSError as exc:
        return PushItem(item, "failed", reason=f"cannot be read ({exc.strerror or exc})")
    except (InvalidDicomError, ValueError, EOFError):
        return PushItem(item, "failed", reason="not a DICOM file")
    study = str(ds.get("StudyInstanceUID", "") or "")
    sop = str(ds.get("SOPInstanceUID", "") or "")
    if not study or not sop:
        missing = "StudyInstanceUID" if not study else "SOPInstanceUID"
        return PushItem(item, "failed", sop or None, study or None, f"has no {missing}: it cannot go into a study")
    sha256 = hashlib.sha256(data).hexdigest()
    if record.has(server.name, sop, sha256):
        return PushItem(item, "already-pushed", sop, study)
    entry = {"destination": server.name, "sop_instance_uid": sop, "study_instance_uid": study,
             "sop_class_uid": str(ds.get("SOPClassUID", "")), "sha256": sha256, "file": path.name}
    try:
        if has_instance(server, study, sop, breaker):
            try:
                record.add({**entry, "found": "already there", "at": _now()})
            except OSError:
                pass  # it is there; the record only saves a question next time
            return PushItem(item, "already-there", sop, study)
        store_instance(server, ds, confirm=options.confirm, breaker=breaker)
    except NetworkError as exc:
        return PushItem(item, "failed", sop, study, f"push to {server.name} failed: {exc.reason}")
    try:
        record.add({**entry, "at": _now()})
    except OSError as exc:  # pushed all the same; the next run finds it with QIDO
        return PushItem(item, "pushed", sop, study, f"pushed, but {record.path} cannot be written "
                                                     f"({exc.strerror or exc})")
    return PushItem(item, "pushed", sop, study)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
