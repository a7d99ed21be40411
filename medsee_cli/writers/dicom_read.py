"""Reading DICOM-SEG and RTSTRUCT back into a label map plus label table.

`read_seg` works from the SEG's own geometry (third-party SEGs included, in every transfer
syntax `seg_dataset` can hand to highdicom); `read_seg_on` and `read_rtstruct_on` put the result
on a given source grid, matched by SOP instance (and frame) references or by patient coordinates.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.volume import LPS_FROM_RAS, Volume
from medsee_cli.writers.contours import fill_even_odd
from medsee_cli.writers.labels import Code, Label, LabelTable


def _code(concept) -> Code | None:  # type: ignore[no-untyped-def]
    if concept is None:
        return None
    return Code(str(concept.value), str(concept.meaning), str(concept.scheme_designator))


def _segread(path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]
    import highdicom as hd

    from medsee_cli.writers.seg_dataset import read_seg_dataset

    try:
        return hd.seg.Segmentation.from_dataset(read_seg_dataset(path), copy=False)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise InputError(str(path), f"not a readable DICOM-SEG ({exc.__class__.__name__}: {first_line})") from exc


def seg_label_table(seg) -> LabelTable:  # type: ignore[no-untyped-def]
    """The segments of a highdicom `Segmentation` as a label table (value = segment number)."""
    import highdicom as hd

    labels = []
    for number in seg.segment_numbers:
        desc = seg.get_segment_description(number)
        lab = desc.get("RecommendedDisplayCIELabValue")
        colour = tuple(int(c) for c in hd.color.CIELabColor.from_dicom_value(tuple(lab)).to_rgb()) if lab else None
        type_item = desc.SegmentedPropertyTypeCodeSequence[0]
        modifiers = type_item.get("SegmentedPropertyTypeModifierCodeSequence")
        modifier = None
        if modifiers:
            m = modifiers[0]
            modifier = Code(str(m.CodeValue), str(m.CodeMeaning), str(m.CodingSchemeDesignator))
        labels.append(Label(value=int(number), name=str(desc.segment_label),
                            type=_code(desc.segmented_property_type),
                            category=_code(desc.segmented_property_category),
                            modifier=modifier, colour=colour))  # type: ignore[arg-type]
    return LabelTable(tuple(labels))


def read_seg(path: str | os.PathLike[str]) -> tuple[Volume, LabelTable]:
    """A SEG as a label-map `Volume` on its own grid (RAS affine, ``[i, j, k]``) and its labels."""
    seg = _segread(path)
    try:
        hd_volume = seg.get_volume(combine_segments=True, skip_overlap_checks=True)
    except Exception as exc:
        raise InputError(str(path), f"segments do not form one regular 3D grid ({exc})") from exc
    array = np.asarray(hd_volume.array).transpose(2, 1, 0)  # (slice, row, column) -> [i, j, k]
    lps = np.array(hd_volume.affine, dtype=np.float64)[:, [2, 1, 0, 3]]
    volume = Volume(dataobj=array, affine=LPS_FROM_RAS @ lps, modality="SEG", source=str(path))
    return volume, seg_label_table(seg)


def read_seg_on(path: str | os.PathLike[str], volume: Volume) -> tuple[np.ndarray, LabelTable]:
    """A SEG as a label map ``[i, j, k]`` on ``volume``'s grid, matched by source references."""
    seg = _segread(path)
    refs = volume.refs
    if refs is None:
        raise InputError(volume.source or "volume", "has no DICOM references to match the SEG against")
    slices = refs.slices[: volume.spatial_shape[2]]
    options = dict(combine_segments=True, skip_overlap_checks=True, assert_missing_frames_are_empty=True)
    try:
        if slices[0].frame_number is not None:
            frames = seg.get_pixels_by_source_frame(
                slices[0].sop_instance_uid, source_frame_numbers=[s.frame_number for s in slices], **options)
        else:
            frames = seg.get_pixels_by_source_instance([s.sop_instance_uid for s in slices], **options)
    except (ValueError, KeyError, AttributeError) as exc:
        raise InputError(str(path), f"does not reference this source series ({exc})") from exc
    return np.asarray(frames).transpose(2, 1, 0), seg_label_table(seg)


def read_rtstruct_on(path: str | os.PathLike[str], volume: Volume) -> tuple[np.ndarray, LabelTable]:
    """An RTSTRUCT as a label map on ``volume``'s grid (contours filled with the even-odd rule).

    Label values follow the ROI order (1, 2, ...); where ROIs overlap the later one wins.
    """
    import pydicom

    ds = pydicom.dcmread(str(path))
    if ds.get("Modality") != "RTSTRUCT":
        raise InputError(str(path), "not an RT Structure Set")
    inverse = np.linalg.inv(volume.lps_affine)
    ni, nj, nk = volume.spatial_shape
    out = np.zeros((ni, nj, nk), dtype=np.uint16 if len(ds.StructureSetROISequence) > 255 else np.uint8)
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    codes = {}
    for obs in ds.get("RTROIObservationsSequence", []):
        seq = obs.get("RTROIIdentificationCodeSequence")
        if seq:
            codes[int(obs.ReferencedROINumber)] = Code(str(seq[0].CodeValue), str(seq[0].CodeMeaning),
                                                       str(seq[0].CodingSchemeDesignator))
    labels = []
    for value, roi in enumerate(ds.ROIContourSequence, start=1):
        number = int(roi.ReferencedROINumber)
        per_slice: dict[int, list[np.ndarray]] = defaultdict(list)
        for contour in roi.get("ContourSequence", []):
            points = np.asarray(contour.ContourData, dtype=np.float64).reshape(-1, 3)
            ijk = points @ inverse[:3, :3].T + inverse[:3, 3]
            k = int(round(float(ijk[:, 2].mean())))
            if not np.allclose(ijk[:, 2], k, atol=0.05) or not 0 <= k < nk:
                raise InputError(str(path), f"ROI {names.get(number, number)}: a contour is not on a slice of this grid")
            per_slice[k].append(ijk[:, :2])
        for k, polygons in per_slice.items():
            out[:, :, k][fill_even_odd(polygons, (ni, nj))] = value
        colour = roi.get("ROIDisplayColor")
        labels.append(Label(value=value, name=names.get(number, f"roi_{number}"), type=codes.get(number),
                            colour=tuple(int(c) for c in colour) if colour else None))  # type: ignore[arg-type]
    return out, LabelTable(tuple(labels))


def is_dicom_file(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(132)
    return head[128:132] == b"DICM" or path.suffix.lower() == ".dcm"
