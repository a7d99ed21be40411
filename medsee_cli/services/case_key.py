"""The key of one case's work: what its result depends on, as one SHA-256.

It covers the series (SeriesInstanceUID where the catalog knows it, and the bytes of every
input file: a DICOM folder's files in order of their relative names; for a catalog case the
bytes of its NIfTI, whichever it is read from, and whether ingest recorded its DICOM files, so
a case is redone with a DICOM-SEG once they are recorded, not when they are pruned), the model
(`segment_model` identity: name, weights and config digests) and the options that change
the result (targets, prompts, formats, the engine's thresholds and precision). Options that
only change speed (batch size, prefetching, threads) are left out, as are names and paths:
moving an export does not redo its cases.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.services.batch_inputs import Case

SPEED_ONLY = ("batch_size", "prefetch_depth", "threads", "channels_last")
KEY_VERSION = "1"  # bump when the result of unchanged inputs would change


def content_hash(path: Path) -> str:
    """SHA-256 over a file's bytes, or over a folder's files (relative name + bytes, sorted)."""
    digest = hashlib.sha256()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(os.fsencode(file.relative_to(path).as_posix()) + b"\0")
            _feed(digest, file)
    else:
        _feed(digest, path)
    return digest.hexdigest()


def _feed(digest: Any, file: Path) -> None:
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        digest.update(b"\0")


def result_options(targets: tuple[str, ...], prompts: tuple[str, ...], formats: tuple[str, ...] | None,
                   engine: EngineOptions) -> dict[str, Any]:
    """The options that change a case's result, as plain JSON values."""
    tuned = {k: v for k, v in asdict(engine).items() if k not in SPEED_ONLY}
    return {"targets": list(targets), "prompts": list(prompts),
            "formats": None if formats is None else list(formats), "engine": tuned}


def case_key(case: Case, model_identity: str, options: dict[str, Any]) -> str:
    """The case's key (reads every byte of what it hashes)."""
    doc: dict[str, Any] = {"version": KEY_VERSION, "series_uid": case.series_uid, "modality": case.modality,
                           "content": content_hash(case.content or case.source), "model": model_identity,
                           "options": options}
    if case.dicom_recorded:  # absent otherwise: keys of cases without recorded DICOM files stay as they were
        doc["dicom_files"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
