"""Reading annotation files (JSONL, CSV) with errors that name the file, the line and the fix."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from medsee_cli.errors import InputError


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, record)`` from a ``.jsonl`` (one object a line) or ``.csv`` (header row) file."""
    if not path.is_file():
        raise InputError(str(path), "no such annotation file")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                yield number, {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}", f"not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number}", "each line must be a JSON object")
            yield number, record


def require(record: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if record.get(k) in (None, "")]
    if missing:
        raise InputError(where, f"missing field(s) {', '.join(missing)}")


def resolve(base: Path, value: str, where: str, *, fallback: Path | None = None) -> Path:
    """A path from an annotation, relative to ``base`` (or ``fallback``); must exist."""
    candidate = Path(value)
    if not candidate.is_absolute():
        candidate = base / value
        if not candidate.exists() and fallback is not None and (fallback / value).exists():
            candidate = fallback / value
    if not candidate.exists():
        raise InputError(where, f"file {value!r} not found (paths are relative to {base})")
    return candidate


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(str(path), "no such file") from exc
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise InputError(str(path), "a JSON object was expected")
    return data


def as_box(value: Any, where: str, size: int = 4) -> tuple[float, ...]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, (list, tuple)) or len(value) != size:
        raise InputError(where, f"a box must be {size} numbers, got {value!r}")
    try:
        box = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InputError(where, f"a box must be {size} numbers, got {value!r}") from exc
    half = size // 2
    if any(box[a + half] < box[a] for a in range(half)):
        raise InputError(where, f"box {list(box)} has an upper corner below its lower corner")
    return box
