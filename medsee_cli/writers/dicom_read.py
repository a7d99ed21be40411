"""Reading DICOM-SEG and RTSTRUCT back into a label map plus label table.

`read_seg` works from the SEG's own geometry (third-party SEGs included: BINARY, LABELMAP and
FRACTIONAL, in every transfer syntax `seg_dataset` can hand to highdicom; a SEG without a frame
of reference, e.g. on a radiograph, comes back on its plain pixel grid); `read_seg_on` and
`read_rtstruct_on` put the result on a given source grid, matched by SOP instance (and frame)
references or by patient coordinates.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.volume import LPS_FROM_RAS, Volume
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.contours import fill_even_odd
from medsee_cli.writers.labels import Label, LabelTable

if TYPE_CHECKING:  # highdicom loads only when a SEG is read
    import highdicom as hd


def _code(concept: hd.sr.CodedConcept | None) -> Code | None:
    if concept is None:
        return None
    return Code(str(concept.value), str(concept.meaning), str(concept.scheme_designator))


def _rgb(values: Any) -> tuple[int, int, int] | None:
    """A display colour from DICOM values (0-255 each); None unless there are three."""
    rgb = [int(c) for c in values] if values else []
    return (rgb[0], rgb[1], rgb[2]) if len(rgb) == 3 else None


def _segread(path: str | os.PathLike[str]) -> hd.seg.Segmentation:
    import highdicom as hd

    from medsee_cli.writers.seg_dataset import read_seg_dataset

    try:
        return hd.seg.Segmentation.from_dataset(read_seg_dataset(path), copy=False)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise InputError(str(path), f"not a readable DICOM-SEG ({exc.__class__.__name__}: {first_line})") from exc


def seg_label_table(seg: hd.seg.Segmentation) -> LabelTable:
    """The segments of a highdicom `Segmentation` as a label table (value = segment number)."""
    import highdicom as hd

    labels = []
    for number in seg.segment_numbers:
        desc = seg.get_segment_description(number)
        lab = desc.get("RecommendedDisplayCIELabValue")
        colour = _rgb(hd.color.CIELabColor.from_dicom_value(tuple(lab)).to_rgb()) if lab else None
        type_item = desc.SegmentedPropertyTypeCodeSequence[0]
        modifiers = type_item.get("SegmentedPropertyTypeModifierCodeSequence")
        modifier = None
        if modifiers:
            m = modifiers[0]
            modifier = Code(str(m.CodeValue), str(m.CodeMeaning), str(m.CodingSchemeDesignator))
        labels.append(Label(value=int(number), name=str(desc.segment_label),
                            type=_code(desc.segmented_property_type),
                            category=_code(desc.segmented_property_category),
                            modifier=modifier, colour=colour))
    return LabelTable(tuple(labels))


FRACTIONAL_THRESHOLD = 0.5  # a FRACTIONAL segment covers a voxel from half its maximum value on


def _label_pixels(seg: hd.seg.Segmentation, get: Callable[..., Any]) -> np.ndarray:
    """One label value (segment number) per pixel from ``get(combine_segments=..., ...)``.

    BINARY and LABELMAP segments are combined by highdicom (where segments overlap, one of them
    wins); FRACTIONAL ones are thresholded at `FRACTIONAL_THRESHOLD`, the higher segment number
    winning where several pass.
    """
    import highdicom as hd

    if seg.segmentation_type != hd.seg.SegmentationTypeValues.FRACTIONAL:
        return np.asarray(get(combine_segments=True, skip_overlap_checks=True))
    fractions = np.asarray(get(combine_segments=False))  # (..., segment), scaled to 0..1
    numbers = list(seg.segment_numbers)
    out = np.zeros(fractions.shape[:-1], np.uint16 if max(numbers, default=0) > 255 else np.uint8)
    for index, number in enumerate(numbers):
        out[fractions[..., index] >= FRACTIONAL_THRESHOLD] = number
    return out


def _pixel_grid_seg(seg: hd.seg.Segmentation, path: str | os.PathLike[str]) -> Volume:
    """A SEG with no frame of reference (e.g. on a radiograph): its frames on a plain pixel grid
    (spacing from Pixel Measures when given, else 1 mm), one slice per referenced image."""
    uids = [str(i.ReferencedSOPInstanceUID) for s in seg.ReferencedSeriesSequence for i in s.ReferencedInstanceSequence]
    frames = _label_pixels(seg, lambda **kw: seg.get_pixels_by_source_instance(uids, **kw))
    spacing = [1.0, 1.0]
    shared = seg.get("SharedFunctionalGroupsSequence")
    if shared and "PixelMeasuresSequence" in shared[0]:
        spacing = [float(v) for v in shared[0].PixelMeasuresSequence[0].PixelSpacing]
    affine = np.diag([spacing[1], spacing[0], 1.0, 1.0])
    return Volume(dataobj=frames.transpose(2, 1, 0), affine=affine, modality="SEG", source=str(path),
                  notes=("no patient coordinates: pixel grid only",))


def read_seg(path: str | os.PathLike[str]) -> tuple[Volume, LabelTable]:
    """A SEG as a label-map `Volume` on its own grid (RAS affine, ``[i, j, k]``) and its labels."""
    seg = _segread(path)
    try:
        if "FrameOfReferenceUID" not in seg:
            return _pixel_grid_seg(seg, path), seg_label_table(seg)
        read: list[hd.Volume] = []  # the highdicom volume `get` read, for its affine

        def get(**kw: Any) -> np.ndarray:
            read.append(seg.get_volume(**kw))
            return read[-1].array

        labels = _label_pixels(seg, get)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise InputError(str(path), f"segments do not form one regular 3D grid ({reason})") from exc
    array = labels.transpose(2, 1, 0)  # (slice, row, column) -> [i, j, k]
    lps = np.array(read[-1].affine, dtype=np.float64)[:, [2, 1, 0, 3]]
    volume = Volume(dataobj=array, affine=LPS_FROM_RAS @ lps, modality="SEG", source=str(path))
    return volume, seg_label_table(seg)


def read_seg_on(path: str | os.PathLike[str], volume: Volume) -> tuple[np.ndarray, LabelTable]:
    """A SEG as a label map ``[i, j, k]`` on ``volume``'s grid, matched by source references."""
    seg = _segread(path)
    refs = volume.refs
    if refs is None:
        raise InputError(volume.source or "volume", "has no DICOM references to match the SEG against")
    slices = refs.slices[: volume.spatial_shape[2]]
    frame_numbers = [s.frame_number for s in slices if s.frame_number is not None]
    if frame_numbers and len(frame_numbers) != len(slices):
        raise InputError(volume.source or "volume", "mixes frames of a multi-frame object with single images")
    try:
        if frame_numbers:
            frames = _label_pixels(seg, lambda **kw: seg.get_pixels_by_source_frame(
                slices[0].sop_instance_uid, source_frame_numbers=frame_numbers,
                assert_missing_frames_are_empty=True, **kw))
        else:
            frames = _label_pixels(seg, lambda **kw: seg.get_pixels_by_source_instance(
                [s.sop_instance_uid for s in slices], assert_missing_frames_are_empty=True, **kw))
    except (ValueError, KeyError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise InputError(str(path), f"does not reference this source series ({reason})") from exc
    return frames.transpose(2, 1, 0), seg_label_table(seg)


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
    codes: dict[int, Code] = {}
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
                            colour=_rgb(colour)))
    return out, LabelTable(tuple(labels))


def is_dicom_file(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(132)
    return head[128:132] == b"DICM" or path.suffix.lower() == ".dcm"
