"""What an evaluation scored, recorded in every report: the dataset, the model or predictions, medsee, options.

Everything here is a function of the inputs, so two runs on the same inputs give identical
records; only ``date`` (kept apart, at the top level of summary.json) differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medsee_cli.eval.items import Dataset, EvalItem
from medsee_cli.eval.options import EvalOptions


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def items_sha256(items: Sequence[EvalItem]) -> str:
    """A hash of the item list: ids, cases, targets, texts, dimensions, splits and cuts, in order."""
    lines = [json.dumps([i.item_id, i.case_id, i.target, i.text, i.ndim, i.split, i.cut]) for i in items]
    return sha256_text("\n".join(lines))


def folder_sha256(folder: Path) -> tuple[int, str]:
    """(number of files, hash of their relative paths and contents) for a predictions folder."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return len(files), digest.hexdigest()


NOT_RECORDED = ("out", "overwrite")  # where the report goes, not what was scored


def options_record(options: EvalOptions) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items() if k not in NOT_RECORDED}


def describe_source(source: Any) -> dict[str, Any]:
    """The scored model or predictions, as the source describes itself (``identity()``)."""
    identity = getattr(source, "identity", None)
    if callable(identity):
        return dict(identity())
    return {"kind": "custom", "class": type(source).__name__}


def provenance(dataset: Dataset, items: Sequence[EvalItem], options: EvalOptions, source: Any) -> dict[str, Any]:
    from medsee_cli import __version__

    return {
        "dataset": {"name": dataset.name, "root": dataset.root, "split": options.split,
                    "items": len(items), "items_of_dataset": len(dataset.items), "items_sha256": items_sha256(items)},
        "scored": describe_source(source),
        "medsee_version": __version__,
        "options": options_record(options),
    }


def run_date() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
