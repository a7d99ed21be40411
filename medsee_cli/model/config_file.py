"""`config.json` of a model folder: written atomically, read with errors that name the file."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.model.errors import CheckpointError

CONFIG_FILE = "config.json"


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    target = Path(folder) / CONFIG_FILE
    write_text_atomic(target, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return target


def read_config(folder: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``folder/config.json``; ``what`` names the config in errors."""
    source = Path(folder) / CONFIG_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(str(source), f"cannot read the {what} ({exc})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(str(source), f"the {what} is not a JSON object")
    return data


def config_values(cls: type, data: dict[str, Any], what: str) -> dict[str, Any]:
    """``data`` as keyword arguments for the config dataclass ``cls``: unknown keys are an error
    naming ``what``; JSON lists become tuples (objects stay dicts)."""
    unknown = sorted(set(data) - {field.name for field in fields(cls)})
    if unknown:
        raise CheckpointError(what, f"unknown config keys {unknown}")
    return {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
