"""The JSON sidecar written next to every ingested NIfTI (schema ``medsee.series/1``).

It holds geometry in both conventions, the DICOM identity (UIDs, not patient attributes) and
the slice-to-SOP-instance map that a DICOM-SEG needs to reference the source images.

No source path is written by default (PACS exports name folders after patients): each slice
names its SOP Instance UID, and `locate_slice_files` finds the files again under a source
folder given at read time. ``store_paths=True`` (``ingest --store-paths``) adds full paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsee_cli import __version__
from medsee_cli.errors import InputError
from medsee_cli.io.dicom.discover import printable
from medsee_cli.io.volume import Volume

SIDECAR_SCHEMA = "medsee.series/1"


def build_sidecar(
    volume: Volume,
    *,
    key: str,
    kind: str,
    fingerprint: str,
    extra: dict[str, Any] | None = None,
    store_paths: bool = False,
) -> dict[str, Any]:
    nk = volume.spatial_shape[2]
    meta: dict[str, Any] = {
        "schema": SIDECAR_SCHEMA,
        "key": key,
        "kind": kind,
        "modality": volume.modality,
        "shape": list(volume.shape),
        "dtype": str(volume.dtype),
        "samples_per_pixel": volume.samples_per_pixel,
        "convention": "array [i, j, k(, t)]; affine_ras maps (i, j, k, 1) to RAS+ mm, affine_lps to DICOM LPS+ mm",
        "spacing_mm": [round(s, 6) for s in volume.spacing],
        "orientation": volume.orientation,
        "affine_ras": _matrix(volume.affine),
        "affine_lps": _matrix(volume.lps_affine),
        "notes": list(volume.notes),
        "source_fingerprint": fingerprint,
        "medsee_version": __version__,
    }
    if volume.refs is not None:
        refs = volume.refs
        meta["dicom"] = {
            "study_instance_uid": refs.study_instance_uid,
            "series_instance_uid": refs.series_instance_uid,
            "frame_of_reference_uid": refs.frame_of_reference_uid,
            "sop_class_uid": refs.sop_class_uid,
            "transfer_syntax_uid": refs.transfer_syntax_uid,
            "slices": [
                {
                    "k": index % nk if nk else index,
                    "t": index // nk if nk else 0,
                    "sop_instance_uid": s.sop_instance_uid,
                    "file": printable(s.file) if store_paths else None,
                    "frame_number": s.frame_number,
                }
                for index, s in enumerate(refs.slices)
            ],
        }
    if extra:
        meta.update(extra)
    return meta


def locate_slice_files(meta: dict[str, Any], source: Path) -> list[str]:
    """The file behind each slice of a sidecar's ``dicom.slices``, found under ``source`` by
    SOP Instance UID (the sidecar itself holds no paths). Raises `InputError` for a slice whose
    instance is not there."""
    from medsee_cli.io.dicom.discover import find_candidates, scan_headers

    candidates, _ = find_candidates([source])
    where = {h.sop_instance_uid: h.location for h in scan_headers(candidates.dicom).headers}
    found = []
    for entry in meta.get("dicom", {}).get("slices", []):
        uid = entry["sop_instance_uid"]
        if uid not in where:
            raise InputError(str(source), f"holds no instance {uid} of series {meta.get('key')}")
        found.append(where[uid])
    return found


def _matrix(m: Any) -> list[list[float]]:
    return [[round(float(v), 6) for v in row] for row in m]
