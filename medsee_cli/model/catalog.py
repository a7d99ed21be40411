"""What ``medsee models list|info`` shows: registry entries and whether their files are here.

Cheap (no hashing, no torch): checking the files is ``pretrained.verify_sources``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsee_cli.model.registry import CheckpointEntry, get_entry, load_registry, model_home


def _sources(entry: CheckpointEntry, home: Path) -> list[dict[str, Any]]:
    rows = []
    for source in entry.sources:
        path = source.path(home)
        present = path is not None and path.is_file()
        rows.append(
            {
                "kind": source.kind,
                "path": str(path) if path else None,
                "present": present,
                "sha256": source.sha256,
                "bytes": path.stat().st_size if present and path else None,
            }
        )
    return rows


def describe(name: str, home: Path | None = None) -> dict[str, Any]:
    """One checkpoint as a JSON-ready dict; ``source`` is the one a load would use (or None)."""
    entry = get_entry(name)
    home = Path(home) if home else model_home()
    sources = _sources(entry, home)
    used = next((s["kind"] for s in sources if s["present"]), None)
    return {
        "name": entry.name,
        "architecture": entry.architecture,
        "summary": entry.summary,
        "task": entry.task,
        "parameters": entry.parameters,
        "license": entry.license,
        "provenance": entry.provenance,
        "model_home": str(home),
        "source": used,
        "sources": sources,
    }


def describe_all(home: Path | None = None) -> list[dict[str, Any]]:
    return [describe(name, home) for name in sorted(load_registry())]
