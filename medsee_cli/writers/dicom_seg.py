"""DICOM-SEG from a label map on a DICOM source grid, built with highdicom.

One segment per label: SNOMED CT property category and type (plus modifier), the algorithm's
name and version, a display colour. ``BINARY`` (bit-packed frames, read by every SEG reader) or
``LABELMAP`` (one integer frame per slice, RLE Lossless). The segmentation references the source
SOP instances (and frames, for an enhanced multi-frame source) and frame of reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.atomic import atomic_path
from medsee_cli.io.volume import Volume
from medsee_cli.writers.dicom_source import SourceSeries, source_series
from medsee_cli.writers.labels import Code, Label, LabelTable
from medsee_cli.writers.options import WriterOptions

SEG_SERIES_NUMBER = 900
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"


def _coded(code: Code):  # type: ignore[no-untyped-def]
    import highdicom as hd

    return hd.sr.CodedConcept(value=code.code, scheme_designator=code.scheme, meaning=code.meaning)


def require_codes(table: LabelTable, what: str) -> None:
    """Every label needs a property type and category for ``what`` (SEG, RTSTRUCT)."""
    missing = [label.name for label in table if label.type is None or label.category is None]
    if missing:
        raise InputError(
            ", ".join(missing),
            f"no SNOMED CT type/category code, which {what} requires "
            "(add 'type' and 'category' to the label table)",
        )


def _description(number: int, label: Label, options: WriterOptions):  # type: ignore[no-untyped-def]
    import highdicom as hd
    from pydicom.sr.codedict import codes

    assert label.type is not None and label.category is not None
    algorithm = hd.AlgorithmIdentificationSequence(
        name=options.algorithm_name,
        family=codes.cid7162.ArtificialIntelligence,
        version=options.version,
    )
    colour = label.colour
    description = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label.name[:64],
        segmented_property_category=_coded(label.category),
        segmented_property_type=_coded(label.type),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm,
        display_color=hd.color.CIELabColor.from_rgb(*colour) if colour else None,
    )
    if label.modifier is not None:
        type_item = description.SegmentedPropertyTypeCodeSequence[0]
        type_item.SegmentedPropertyTypeModifierCodeSequence = [_coded(label.modifier)]
    return description


def _segment_numbers(labelmap: np.ndarray, table: LabelTable) -> np.ndarray:
    """Label values as segment numbers 1..N: unchanged when they already are (no copy)."""
    values = table.values
    if values == tuple(range(1, len(values) + 1)):
        return labelmap
    lut = np.zeros(int(max(values)) + 1, dtype=np.uint16 if len(values) > 255 else np.uint8)
    for number, value in enumerate(values, start=1):
        lut[value] = number
    return lut[labelmap]


def build_seg(volume: Volume, labelmap: np.ndarray, table: LabelTable, options: WriterOptions,
              source: SourceSeries | None = None):  # type: ignore[no-untyped-def]
    """A highdicom `Segmentation` of ``labelmap`` (on ``volume``'s grid), not yet saved."""
    import highdicom as hd

    require_codes(table, "DICOM-SEG")
    present = np.unique(labelmap) if labelmap.size else np.zeros(0)
    unknown = sorted(set(int(v) for v in present) - {0} - set(table.values))
    if unknown:
        raise InputError(volume.source or "label map", f"values {unknown} are not in the label table")
    source = source or source_series(volume)
    table = table.with_colours()
    numbers = _segment_numbers(labelmap, table)
    if numbers.dtype.kind not in "ub":
        numbers = numbers.astype(np.uint16 if int(numbers.max(initial=0)) > 255 else np.uint8)
    frames = source.frames(numbers)
    labelmap_type = options.seg_type == "LABELMAP"
    syntax = RLE_LOSSLESS if (labelmap_type or options.seg_compress) else EXPLICIT_VR_LITTLE_ENDIAN
    return hd.seg.Segmentation(
        source_images=list(source.datasets),
        pixel_array=frames,
        segmentation_type=options.seg_type,
        segment_descriptions=[_description(n, label, options) for n, label in enumerate(table, start=1)],
        series_instance_uid=hd.UID(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="medsee",
        manufacturer_model_name=options.algorithm_name,
        software_versions=options.version,
        device_serial_number="0",
        series_description=options.series_description[:64],
        content_label="MEDSEE",
        content_description=options.series_description[:64],
        transfer_syntax_uid=syntax,
        omit_empty_frames=True,
    )


def write_seg(volume: Volume, labelmap: np.ndarray, table: LabelTable, target: str | os.PathLike[str],
              options: WriterOptions, source: SourceSeries | None = None) -> Path:
    """Build and save a DICOM-SEG atomically; returns the path written."""
    seg = build_seg(volume, labelmap, table, options, source)
    target = Path(target)
    with atomic_path(target, overwrite=options.overwrite) as tmp:
        seg.save_as(tmp)
    return target
