"""What a batch works on: one `Case` per image, DICOM folder, or series of an ingest catalog.

An input folder holding an ingest catalog (``catalog.sqlite``) stands for every series it
lists: each becomes a case named by its catalog key (``ct_0002_1f0c2a9b3e``), never by a
patient attribute or a source path. Any other input is one case named after the file, as
before. Ids are unique across the batch (repeats get ``-2``, ``-3``...).

A catalog case is read from its DICOM files where ingest recorded a folder holding them and
that folder still holds exactly what ingest saw (`series_files.dicom_source`), so it gets a
DICOM-SEG; otherwise from its NIfTI, with a warning that says why there is no DICOM-SEG. Either
way its key covers its NIfTI (the ingested series) and whether ingest recorded its DICOM files,
never whether they are still there: pruning kept DICOM files redoes no finished case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medsee_cli.services.catalog import Catalog, SeriesRecord

SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".zip", ".dcm")
CATALOG_NAME = "catalog.sqlite"  # what `ingest` writes (services.ingest.CATALOG_NAME)


@dataclass(frozen=True)
class Case:
    """``source``: what is read; ``label``: how messages name it (a catalog case: its key, not
    its path); ``series_uid``: the catalog's SeriesInstanceUID, when known. A catalog case also
    has ``content`` (what its key hashes: its NIfTI, whether ``source`` is that or its DICOM
    folder), ``dicom_recorded`` (ingest recorded its DICOM files) and ``warnings`` (one line
    each: "no DICOM-SEG: read from its NIfTI; ..." when it has to be read from its NIfTI)."""

    ident: str
    source: Path
    label: str
    series_uid: str | None = None
    modality: str | None = None
    content: Path | None = None
    dicom_recorded: bool = False
    warnings: tuple[str, ...] = ()


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
            found.extend(catalog_case(catalog, rec) for rec in catalog.all_series())
    ids = unique([c.ident for c in found])
    return [replace(c, ident=i) for i, c in zip(ids, found)]


def catalog_case(catalog: Catalog, rec: SeriesRecord) -> Case:
    """One series of a catalog as a case: read from its verified DICOM folder, else its NIfTI."""
    from medsee_cli.services.series_files import dicom_source

    nifti = Path(rec.nifti)
    dicom = dicom_source(catalog, rec)
    return Case(case_id(rec.key), dicom.folder or nifti, rec.key, rec.series_instance_uid, rec.modality,
                content=nifti, dicom_recorded=dicom.recorded, warnings=(dicom.warning,) if dicom.warning else ())


def output_warnings(case: Case, formats: tuple[str, ...] | None) -> tuple[str, ...]:
    """The case's own warnings about the outputs asked for (``formats`` None: the defaults,
    DICOM-SEG among them): what a `CaseResult` adds to its writers' warnings."""
    from medsee_cli.services.results import DICOM_FORMATS

    if formats is not None and not any(f in DICOM_FORMATS for f in formats):
        return ()
    return case.warnings
