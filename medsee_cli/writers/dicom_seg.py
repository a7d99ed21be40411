"""DICOM-SEG from a label map on a DICOM source grid, built with highdicom.

One segment per label: SNOMED CT property category (a CID 7150 code) and type (plus
modifier), the algorithm's name and version, a display colour. ``BINARY`` (bit-packed frames, read by every SEG reader) or
``LABELMAP`` (one integer frame per slice, RLE Lossless). The segmentation references the source
SOP instances (and frames, for an enhanced multi-frame source) and frame of reference.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.atomic import atomic_path
from medsee_cli.io.volume import Volume
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.dicom_headers import building_from_source
from medsee_cli.writers.dicom_source import SourceSeries, source_series
from medsee_cli.writers.knowledge_codes import with_dicom_categories
from medsee_cli.writers.labels import Label, LabelTable
from medsee_cli.writers.options import WriterOptions

if TYPE_CHECKING:  # highdicom loads only when a SEG is built or read
    import highdicom as hd

SEG_SERIES_NUMBER = 900
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"


def _coded(code: Code) -> hd.sr.CodedConcept:
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


def _description(number: int, label: Label, options: WriterOptions) -> hd.seg.SegmentDescription:
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


def _segment_numbers(labelmap: np.ndarray, table: LabelTable, where: str) -> np.ndarray:
    """Label values as segment numbers 1..N (unchanged, no copy, when they already are).

    Checks in passing that every value is in the table, without sorting the whole map.
    """
    values = table.values
    top = int(labelmap.max(initial=0)) if labelmap.size else 0
    if values == tuple(range(1, len(values) + 1)) and top <= len(values):
        return labelmap
    if top > 65535 or labelmap.dtype.kind not in "ub":
        raise InputError(where, f"holds value {top}: label values must be integers in 0..65535")
    sentinel = 65535 if len(values) >= 255 else 255
    lut = np.full(top + 1, sentinel, dtype=np.uint16 if sentinel == 65535 else np.uint8)
    lut[0] = 0
    for number, value in enumerate(values, start=1):
        if value <= top:
            lut[value] = number
    numbers: np.ndarray = lut[labelmap]
    if (lut == sentinel).any() and (numbers == sentinel).any():
        unknown = sorted(int(v) for v in np.flatnonzero(lut == sentinel) if (labelmap == v).any())
        raise InputError(where, f"values {unknown} are not in the label table")
    return numbers


def build_seg(volume: Volume, labelmap: np.ndarray, table: LabelTable, options: WriterOptions,
              source: SourceSeries | None = None) -> hd.seg.Segmentation:
    """A highdicom `Segmentation` of ``labelmap`` (on ``volume``'s grid), not yet saved."""
    require_codes(table, "DICOM-SEG")
    source = source or source_series(volume)
    table = with_dicom_categories(table).with_colours()  # categories as CID 7150 codes them
    numbers = _segment_numbers(np.asarray(labelmap), table, volume.source or "label map")
    if numbers.dtype.kind == "b":
        numbers = numbers.view(np.uint8)
    frames = source.frames(numbers)
    labelmap_type = options.seg_type == "LABELMAP"
    syntax = RLE_LOSSLESS if labelmap_type else EXPLICIT_VR_LITTLE_ENDIAN
    with building_from_source():
        return _segmentation(source, frames, table, options, syntax)


def _segmentation(source: SourceSeries, frames: np.ndarray, table: LabelTable, options: WriterOptions,
                  syntax: str) -> hd.seg.Segmentation:
    import highdicom as hd

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
    with atomic_path(target, overwrite=options.overwrite) as tmp, building_from_source():
        seg.save_as(tmp)
    return target
