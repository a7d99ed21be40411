"""A case folder's completion record (``done.json``) and how a new result replaces an old one.

The record (``medsee.case-done/1``) holds the case's key (`case_key`) and the SHA-256 of every
file of the result; it is written last, atomically, into the result while that is still a
private staging folder, and the staging folder then takes the case folder's place. So a case
folder is either absent, a finished result with its record, or (made by something else) a
folder without one. A case is finished when its record's key matches and every listed file
is there with its digest. Nothing in the record names a patient or a path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from medsee_cli.io.atomic import PARTIAL_SUFFIX, write_text_atomic

RECORD_NAME = "done.json"
RECORD_SCHEMA = "medsee.case-done/1"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_record(folder: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == RECORD_SCHEMA else None


def is_finished(folder: Path, key: str) -> bool:
    """The folder holds the result of ``key``, every file intact."""
    doc = read_record(folder)
    if doc is None or doc.get("key") != key or not isinstance(doc.get("files"), dict):
        return False
    try:
        return all(_sha256(folder / name) == digest for name, digest in doc["files"].items())
    except OSError:
        return False


def write_record(folder: Path, key: str, case: str) -> None:
    """Record ``folder``'s files under ``key``: the last write into a staging folder."""
    files = {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != RECORD_NAME}
    doc = {"schema": RECORD_SCHEMA, "case": case, "key": key, "files": files}
    write_text_atomic(folder / RECORD_NAME, json.dumps(doc, indent=1) + "\n")


def staging_root(out: Path) -> Path:
    """This process's private folder under ``out`` (removed by the next run after a kill)."""
    return out / f".staging.{os.getpid()}{PARTIAL_SUFFIX}"


def publish(staged: Path, folder: Path) -> None:
    """Put the finished ``staged`` folder in ``folder``'s place. An old folder is first moved
    aside into the staging area, so a kill leaves the new result, the old one or neither,
    never a mix; what was moved aside is removed afterwards (the staging area of ``folder``'s
    parent is made when it is missing: a result one level down, ``OUT/CASE/ITEM``, has its own)."""
    if folder.exists():
        aside = staging_root(folder.parent) / f"{folder.name}.old"
        if aside.exists():
            shutil.rmtree(aside)
        aside.parent.mkdir(exist_ok=True)
        os.replace(folder, aside)
        os.replace(staged, folder)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staged, folder)
