"""`FrameHeader`: the few attributes of one 2D DICOM frame that series assembly needs.

Only geometry, identity and pixel-format attributes are kept; no patient attribute is read
into it, so nothing identifying can leak from here into logs, sidecars or the catalog.

What PACS exports and anonymisers do to headers, and what is made of it here (never a value
medsee made up):
- UIDs are compared without the trailing spaces/NULs some exporters pad them with.
- An empty or absent SOPClassUID / SOPInstanceUID is taken from the file's own meta header
  (MediaStorageSOPClassUID / MediaStorageSOPInstanceUID): the file states it there. So is a
  SOPClassUID no standard defines (hashed by an anonymiser) when the meta header's is defined.
- A file without a meta header gets the encoding pydicom detected for its dataset (implicit or
  explicit VR); its pixel data can then only be read when they are not compressed.
- Single-valued numbers stored with several values (``-1024\\-1024``) are read when all values
  agree, and are an error when they do not.
- A CT without RescaleSlope/RescaleIntercept keeps its stored values, as dcm2niix does, and the
  series says so in a note (``quirks``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from medsee_cli.errors import InputError, UnsupportedInput
from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.sop_classes import defined_sop_class, non_image_class, stated_sop_class
from medsee_cli.io.dicom.source_header import SourceHeader, read_source_header

ENHANCED_MARKER = "FunctionalGroupsSequence"
NOT_DICOM = "not a DICOM file"  # the reason a file without DICOM structure is passed over


@dataclass(frozen=True)
class FrameHeader:
    """One 2D frame. ``frame_number`` is 1-based for multi-frame objects, None otherwise."""

    location: str
    frame_number: int | None
    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    study_instance_uid: str
    frame_of_reference_uid: str | None
    transfer_syntax_uid: str
    modality: str
    series_number: int | None
    series_description: str
    rows: int
    columns: int
    samples_per_pixel: int
    photometric: str
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    number_of_frames: int
    orientation: tuple[float, ...] | None  # 6 direction cosines (row, column), LPS
    position: tuple[float, float, float] | None  # ImagePositionPatient, LPS mm
    pixel_spacing: tuple[float, float] | None  # (between rows, between columns) mm
    slice_thickness: float | None
    spacing_between_slices: float | None
    slope: float
    intercept: float
    instance_number: int | None
    acquisition_number: int | None
    echo_number: int | None
    temporal_index: int | None
    trigger_time: float | None
    acquisition_time: str
    image_type: tuple[str, ...]
    stack_id: str | None
    is_mosaic: bool
    quirks: tuple[str, ...] = ()  # what was repaired or assumed while reading, for the series notes

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FrameHeader":
        fixed = dict(data)
        for key in ("orientation", "position", "pixel_spacing", "image_type", "quirks"):
            if fixed.get(key) is not None:
                fixed[key] = tuple(fixed[key])
        return cls(**fixed)


def read_frame_headers(location: Location) -> tuple[list[FrameHeader], SourceHeader]:
    """All frame headers of one file, and the header kept of it for the steps after the scan
    (the file is opened and parsed once: `source_header`). Raises `InputError` /
    `UnsupportedInput` naming the file; a file that does not start like DICOM is not parsed."""
    ds, kept = read_source_header(location)
    return headers_from_dataset(ds, str(location)), kept


def headers_from_dataset(ds: Dataset, name: str) -> list[FrameHeader]:
    meta = getattr(ds, "file_meta", None)
    stored = _uid(meta.get("MediaStorageSOPClassUID", "")) if meta else ""
    sop_class = stated_sop_class(_uid(ds.get("SOPClassUID", "")), stored)
    if not sop_class and "PixelData" not in ds and "Rows" not in ds:
        raise InputError(name, NOT_DICOM)
    kind = non_image_class(sop_class)
    if kind is not None:
        raise UnsupportedInput(name, f"not an image ({kind}, SOP class {sop_class})")
    if "Rows" not in ds or "Columns" not in ds:
        if defined_sop_class(sop_class) and "Image Storage" in UID(sop_class).name:  # an image class: cut short
            raise InputError(name, f"damaged: an image ({UID(sop_class).name}) without its pixel matrix "
                                   "(Rows/Columns missing: a truncated or broken file)")
        raise UnsupportedInput(name, f"not an image (SOP class {sop_class or 'unknown'} has no pixel matrix)")
    try:
        if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
            return _enhanced_headers(ds, name, sop_class)
        single = _classic_header(ds, name, sop_class)
        if single.number_of_frames == 1:
            return [single]
        return [replace(single, frame_number=n) for n in range(1, single.number_of_frames + 1)]
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InputError(name, f"malformed DICOM attributes ({_short(exc)})") from exc


NO_FILE_META = "no file meta header"
SERIES_ERROR = "error: "  # a quirk that makes the series unusable; `plan_series` fails it with this reason
IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"


def _uid(value: Any) -> str:
    """A UID as compared and stored: without the padding some exporters leave on it."""
    return str(value or "").strip(" \0")


def _transfer_syntax(ds: Dataset) -> tuple[str, tuple[str, ...]]:
    meta = getattr(ds, "file_meta", None)
    ts = _uid(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if ts:
        return ts, ()
    implicit, little = getattr(ds, "original_encoding", (True, True))
    detected = IMPLICIT_LE if implicit in (True, None) else (EXPLICIT_LE if little in (True, None) else EXPLICIT_BE)
    return detected, (NO_FILE_META,)


def _common(ds: Dataset, name: str, sop_class: str) -> dict[str, Any]:
    meta = getattr(ds, "file_meta", None)
    ts, quirks = _transfer_syntax(ds)
    image_type = tuple(str(v) for v in _as_list(ds.get("ImageType", [])))
    sop_instance = _uid(ds.get("SOPInstanceUID", "")) or (_uid(meta.get("MediaStorageSOPInstanceUID", "")) if meta else "")
    modality = str(ds.get("Modality", "OT") or "OT").upper()
    enhanced = "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds
    rescale_error = _rescale_error(ds)
    if rescale_error:
        quirks += (SERIES_ERROR + rescale_error,)
    elif modality == "CT" and not enhanced and _named_float(ds, "RescaleIntercept") is None and "ModalityLUTSequence" not in ds:
        quirks += ("no RescaleIntercept/RescaleSlope: stored values used as they are (not HU)",)
    return {
        "location": name,
        "sop_instance_uid": sop_instance,
        "sop_class_uid": sop_class,
        "series_instance_uid": _uid(ds.get("SeriesInstanceUID", "")),
        "study_instance_uid": _uid(ds.get("StudyInstanceUID", "")),
        "frame_of_reference_uid": _uid(ds.get("FrameOfReferenceUID")) or None,
        "transfer_syntax_uid": ts,
        "quirks": quirks,
        "modality": modality,
        "series_number": _int_or_none(ds.get("SeriesNumber")),
        "series_description": str(ds.get("SeriesDescription", "") or ""),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1) or 1),
        "photometric": str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2"),
        "bits_allocated": int(ds.get("BitsAllocated", 16) or 16),
        "bits_stored": int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16),
        "pixel_representation": int(ds.get("PixelRepresentation", 0) or 0),
        "number_of_frames": int(ds.get("NumberOfFrames", 1) or 1),
        "acquisition_time": str(ds.get("AcquisitionTime", "") or ""),
        "image_type": image_type,
        "is_mosaic": "MOSAIC" in image_type,
    }


def _classic_header(ds: Dataset, name: str, sop_class: str) -> FrameHeader:
    base = _common(ds, name, sop_class)
    return FrameHeader(
        **base,
        frame_number=None if base["number_of_frames"] == 1 else 1,
        orientation=_floats(ds.get("ImageOrientationPatient"), 6),
        position=_point(ds.get("ImagePositionPatient")),
        pixel_spacing=_pair(ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")),
        slice_thickness=_float_or_none(ds.get("SliceThickness")),
        spacing_between_slices=_float_or_none(ds.get("SpacingBetweenSlices")),
        slope=_float_or_none(ds.get("RescaleSlope")) or 1.0,
        intercept=_float_or_none(ds.get("RescaleIntercept")) or 0.0,
        instance_number=_int_or_none(ds.get("InstanceNumber")),
        acquisition_number=_int_or_none(ds.get("AcquisitionNumber")),
        echo_number=_int_or_none(ds.get("EchoNumbers")),
        temporal_index=_int_or_none(ds.get("TemporalPositionIdentifier")),
        trigger_time=_float_or_none(ds.get("TriggerTime")),
        stack_id=None,
    )


def _enhanced_headers(ds: Dataset, name: str, sop_class: str) -> list[FrameHeader]:
    base = _common(ds, name, sop_class)
    shared = ds.get("SharedFunctionalGroupsSequence", [None])[0]
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence", []))
    n = base["number_of_frames"]
    if per_frame and len(per_frame) != n:
        raise InputError(name, f"{len(per_frame)} per-frame groups for {n} frames")
    headers = []
    for index in range(n):
        frame = per_frame[index] if per_frame else None

        def item(seq: str) -> Dataset | None:
            return _group_item(frame, seq) or _group_item(shared, seq)

        plane_pos = item("PlanePositionSequence")
        plane_ori = item("PlaneOrientationSequence")
        measures = item("PixelMeasuresSequence")
        transform = item("PixelValueTransformationSequence")
        content = item("FrameContentSequence")
        frame_type = _frame_type(frame) or _frame_type(shared) or base["image_type"]
        headers.append(
            FrameHeader(
                **{**base, "image_type": frame_type},
                frame_number=index + 1,
                orientation=_floats(plane_ori.get("ImageOrientationPatient") if plane_ori else None, 6),
                position=_point(plane_pos.get("ImagePositionPatient") if plane_pos else None),
                pixel_spacing=_pair(measures.get("PixelSpacing") if measures else None),
                slice_thickness=_float_or_none(measures.get("SliceThickness") if measures else None),
                spacing_between_slices=_float_or_none(
                    measures.get("SpacingBetweenSlices") if measures else ds.get("SpacingBetweenSlices")
                ),
                slope=_float_or_none(transform.get("RescaleSlope") if transform else ds.get("RescaleSlope")) or 1.0,
                intercept=_float_or_none(
                    transform.get("RescaleIntercept") if transform else ds.get("RescaleIntercept")
                )
                or 0.0,
                instance_number=_int_or_none(ds.get("InstanceNumber")),
                acquisition_number=_int_or_none(ds.get("AcquisitionNumber")),
                echo_number=None,
                temporal_index=_int_or_none(content.get("TemporalPositionIndex") if content else None),
                trigger_time=None,
                stack_id=_str_or_none(content.get("StackID") if content else None),
            )
        )
    return headers


def _group_item(group: Dataset | None, seq: str) -> Dataset | None:
    if group is None or seq not in group:
        return None
    value = group[seq].value
    return value[0] if value else None


def _frame_type(group: Dataset | None) -> tuple[str, ...] | None:
    if group is None:
        return None
    for seq in ("MRImageFrameTypeSequence", "CTImageFrameTypeSequence"):
        found = _group_item(group, seq)
        if found is not None and "FrameType" in found:
            return tuple(str(v) for v in _as_list(found.FrameType))
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    items = _as_list(value)
    if len(items) != n:
        return None
    try:
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None


def _point(value: Any) -> tuple[float, float, float] | None:
    xyz = _floats(value, 3)
    return None if xyz is None else (xyz[0], xyz[1], xyz[2])


def _pair(value: Any) -> tuple[float, float] | None:
    pair = _floats(value, 2)
    return None if pair is None else (pair[0], pair[1])


def _float_or_none(value: Any, *, strict: bool = False) -> float | None:
    """One number; several equal values count as one. Several different ones give None, or
    a `ValueError` when ``strict`` (for values that change every voxel, like the rescale)."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        numbers = {n for n in (_float_or_none(v) for v in value) if n is not None}
        if len(numbers) > 1:
            if strict:
                raise ValueError(f"{len(numbers)} different values where one is expected")
            return None
        return numbers.pop() if numbers else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rescale_error(ds: Dataset) -> str | None:
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        try:
            _named_float(ds, keyword)
        except ValueError as exc:
            return str(exc)
    return None


def _named_float(container: Dataset | None, keyword: str) -> float | None:
    try:
        return _float_or_none(container.get(keyword) if container is not None else None, strict=True)
    except ValueError as exc:
        raise ValueError(f"{keyword} has {exc}") from exc


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:160]
