"""Label-map names from JSON: which values of a label map are which class.

Accepted, whichever the tool wrote (integers may be JSON numbers or strings):

- nnU-Net v2 ``dataset.json``: ``{"labels": {"background": 0, "liver": 1, "tumour": [1, 2]}}``
  (a list is a region: the union of those values);
- nnU-Net v1 ``dataset.json``: ``{"labels": {"0": "background", "1": "liver"}}``;
- TotalSegmentator's class map: ``{"1": "spleen", "2": "kidney_right"}``;
- a plain map: ``{"liver": 1, "kidneys": [2, 3]}`` (MedSAM's box indices, for instance).

Value 0 is background and never a class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medsee_cli.errors import InputError

LabelNames = dict[str, tuple[int, ...]]  # class name -> the label values that are that class


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _values(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, list):
        numbers = [_integer(v) for v in value]
        return None if not numbers or any(n is None for n in numbers) else tuple(n for n in numbers if n is not None)
    number = _integer(value)
    return None if number is None else (number,)


def parse_label_names(data: Any, path: Path) -> LabelNames:
    """The class names of a label map from the JSON ``data`` read from ``path``."""
    table = data.get("labels", data) if isinstance(data, dict) else None
    if not isinstance(table, dict) or not table:
        raise InputError(str(path), "no label names here: expected {\"labels\": {\"liver\": 1}} "
                                    "(nnU-Net) or {\"1\": \"liver\"} (TotalSegmentator)")
    names: dict[str, list[int]] = {}
    if all(_integer(key) is not None for key in table):  # value -> name
        for key, name in table.items():
            if not isinstance(name, str):
                raise InputError(str(path), f"label {key}: the name must be a string, found {name!r}")
            names.setdefault(name, []).append(int(key))
    else:  # name -> value(s)
        for name, value in table.items():
            values = _values(value)
            if values is None:
                raise InputError(str(path), f"label {name!r}: expected an integer or a list of integers, found {value!r}")
            names.setdefault(str(name), []).extend(values)
    kept = {name: tuple(v for v in values if v != 0) for name, values in names.items()}
    return {name: values for name, values in kept.items() if values}


def read_label_names(path: Path) -> LabelNames:
    """`parse_label_names` of a JSON file, with one-line errors for an unreadable one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not a readable label-name JSON ({exc})") from exc
    return parse_label_names(data, path)


def find_label_names(candidates: list[Path]) -> tuple[Path, LabelNames] | None:
    """The first of ``candidates`` that is a file, read; None when there is none."""
    found = next((path for path in candidates if path.is_file()), None)
    return None if found is None else (found, read_label_names(found))
