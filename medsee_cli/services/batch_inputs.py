"""What a batch works on: one `Case` per image, DICOM folder, or series of an ingest catalog.

An input folder holding an ingest catalog (``catalog.sqlite``) stands for every series it
lists: each becomes a case named by its catalog key (``ct_0002_1f0c2a9b3e``), never by a
patient attribute or a source path. Any other input is one case named after the file, as
before. Ids are unique across the batch (repeats get ``-2``, ``-3``...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".zip", ".dcm")
CATALOG_NAME = "catalog.sqlite"  # what `ingest` writes (services.ingest.CATALOG_NAME)


@dataclass(frozen=True)
class Case:
    """``source``: what is read; ``label``: how messages name it (a catalog case: its key, not
    its path); ``series_uid``: the catalog's SeriesInstanceUID, when known."""

    ident: str
    source: Path
    label: str
    series_uid: str | None = None
    modality: str | None = None


def case_id(path: str | Path) -> str:
    """A folder-safe case name from an image path (suffixes dropped)."""
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "case"


def unique(ids: Sequence[str]) -> list[str]:
    """One unique id per entry, in order (repeated names get ``-2``, ``-3``...)."""
    seen: dict[str, int] = {}
    out = []
    for base in ids:
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def is_catalog(path: Path) -> bool:
    return path.is_dir() and (path / CATALOG_NAME).is_file()


def list_cases(inputs: Sequence[str | Path]) -> list[Case]:
    """The cases of a batch, in order: a catalog folder's series sorted by key, else the input."""
    from medsee_cli.services.catalog import Catalog

    found: list[Case] = []
    for item in inputs:
        path = Path(item)
        if not is_catalog(path):
            found.append(Case(case_id(path), path, str(path)))
            continue
        with Catalog(path / CATALOG_NAME) as catalog:
            for rec in catalog.all_series():
                found.append(Case(case_id(rec.key), Path(rec.nifti), rec.key, rec.series_instance_uid, rec.modality))
    ids = unique([c.ident for c in found])
    return [Case(i, c.source, c.label, c.series_uid, c.modality) for i, c in zip(ids, found)]
