"""DICOM sources to `Volume`s: discovery -> headers -> series plans -> decoded pixels."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.dicom.discover import find_candidates, scan_headers
from medsee_cli.io.dicom.mosaic import decode_mosaic
from medsee_cli.io.dicom.pixels import decode_plan
from medsee_cli.io.dicom.series import SeriesPlan, assemble, shared_uid
from medsee_cli.io.dicom.source_header import SourceHeader
from medsee_cli.io.volume import LPS_FROM_RAS, DicomRefs, SliceSource, Volume


def plan_to_volume(plan: SeriesPlan, *, workers: int | None = None,
                   kept: Mapping[str, SourceHeader] | None = None) -> Volume:
    """Decode ``plan`` and wrap it as a `Volume` (RAS+ affine, DICOM references filled).

    ``kept``: the headers the scan kept (`scan_headers(keep=True)`); those of the plan's files
    are used to decode the pixels and stay with the volume (`DicomRefs.headers`) for the writers."""
    first = plan.first
    headers = {f.location: kept[f.location] for f in plan.frames if f.location in kept} if kept else {}
    if "mosaic" in plan.notes:
        data, affine_lps = decode_mosaic(plan)
        slices: tuple[SliceSource, ...] = tuple(
            SliceSource(f.sop_instance_uid, f.location, None, f.instance_number) for f in plan.frames
        )
    else:
        data = decode_plan(plan, workers=workers, kept=headers)
        affine_lps = plan.affine_lps
        slices = tuple(SliceSource(f.sop_instance_uid, f.location, f.frame_number, f.instance_number)
                       for f in plan.frames)
    refs = DicomRefs(
        study_instance_uid=shared_uid(plan.frames, "study_instance_uid"),
        series_instance_uid=first.series_instance_uid,
        frame_of_reference_uid=shared_uid(plan.frames, "frame_of_reference_uid") or None,
        sop_class_uid=first.sop_class_uid,
        transfer_syntax_uid=first.transfer_syntax_uid,
        slices=slices,
        headers=headers,
    )
    return Volume(
        dataobj=data,
        affine=LPS_FROM_RAS @ np.asarray(affine_lps),
        modality=first.modality,
        refs=refs,
        source=plan.key,
        samples_per_pixel=first.samples_per_pixel,
        notes=plan.notes,
    )


def read_dicom_volume(source: Path, *, series: str | None = None) -> Volume:
    """The one series in ``source`` (a folder, zip or file), or the one named by ``series``."""
    candidates, errors = find_candidates([source])
    if errors:
        raise errors[0]
    explicit = frozenset(str(loc) for loc in candidates.dicom) if source.is_file() else frozenset()
    scan = scan_headers(candidates.dicom, explicit=explicit, keep=True)
    assembly = assemble(list(scan.headers))
    plans = list(assembly.plans)
    if series is not None:
        plans = [p for p in plans if series in (p.key, p.first.series_instance_uid)]
    if not plans:
        if scan.failures:
            raise scan.failures[0]
        if assembly.failures:
            raise assembly.failures[0]
        raise InputError(str(source), "no DICOM image series found")
    if len(plans) > 1:
        keys = ", ".join(p.key for p in plans[:6])
        raise InputError(
            str(source),
            f"holds {len(plans)} series ({keys}{', ...' if len(plans) > 6 else ''}); "
            "name one with its series key, or ingest the folder first",
        )
    return plan_to_volume(plans[0], kept=scan.kept)
