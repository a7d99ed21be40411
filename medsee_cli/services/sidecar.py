"""The JSON sidecar written next to every ingested NIfTI (schema ``medsee.series/1``).

It holds geometry in both conventions, the DICOM identity (UIDs, not patient attributes) and
the slice-to-SOP-instance map that a DICOM-SEG needs to reference the source images.
"""

from __future__ import annotations

from typing import Any

from medsee_cli import __version__
from medsee_cli.io.volume import Volume

SIDECAR_SCHEMA = "medsee.series/1"


def build_sidecar(volume: Volume, *, key: str, kind: str, fingerprint: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
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
                    "file": s.file,
                    "frame_number": s.frame_number,
                }
                for index, s in enumerate(refs.slices)
            ],
        }
    if extra:
        meta.update(extra)
    return meta


def _matrix(m: Any) -> list[list[float]]:
    return [[round(float(v), 6) for v in row] for row in m]
