"""RT Structure Set (RTSTRUCT) from a label map on a DICOM source grid, written with pydicom.

One ROI per label; each slice's contours run along voxel borders (see `contours`), are given in
LPS millimetres and reference the source image (and frame) they lie on. The ROI's SNOMED CT
type code goes in RT ROI Identification Code Sequence, its colour in ROI Display Color.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

from medsee_cli.io.atomic import atomic_path
from medsee_cli.io.volume import Volume
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.contours import mask_contours
from medsee_cli.writers.dicom_headers import building_from_source
from medsee_cli.writers.dicom_seg import require_codes
from medsee_cli.writers.dicom_source import SourceSeries, source_series
from medsee_cli.writers.labels import LabelTable
from medsee_cli.writers.options import WriterOptions

RTSTRUCT_STORAGE = UID("1.2.840.10008.5.1.4.1.1.481.3")
STUDY_COMPONENT_MANAGEMENT = "1.2.840.10008.3.1.2.3.1"  # used by RTReferencedStudySequence
RT_SERIES_NUMBER = 901
COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
          "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber", "SpecificCharacterSet")


def _image_item(source: SourceSeries, k: int) -> Dataset:
    item = Dataset()
    if source.multiframe:
        assert source.frame_numbers is not None
        ds = source.datasets[0]
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
        item.ReferencedFrameNumber = source.frame_numbers[k]
    else:
        ds = source.datasets[k]
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    return item


def _code_item(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code.code, code.scheme, code.meaning[:64]
    return item


def _referenced_frame_of_reference(source: SourceSeries, nk: int) -> Dataset:
    first = source.datasets[0]
    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    series.ContourImageSequence = [_image_item(source, k) for k in range(nk)]
    study = Dataset()
    study.ReferencedSOPClassUID = STUDY_COMPONENT_MANAGEMENT
    study.ReferencedSOPInstanceUID = first.StudyInstanceUID
    study.RTReferencedSeriesSequence = [series]
    frame = Dataset()
    frame.FrameOfReferenceUID = source.frame_of_reference_uid
    frame.RTReferencedStudySequence = [study]
    return frame


def _slice_contours(volume: Volume, binary: np.ndarray, source: SourceSeries) -> list[Dataset]:
    lps = volume.lps_affine
    items: list[Dataset] = []
    for k in np.flatnonzero(binary.any(axis=(0, 1))):
        for poly in mask_contours(binary[:, :, k]):
            ijk = np.column_stack([poly, np.full(len(poly), float(k))])
            points = ijk @ lps[:3, :3].T + lps[:3, 3]
            contour = Dataset()
            contour.ContourImageSequence = [_image_item(source, int(k))]
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(points)
            contour.ContourNumber = len(items) + 1
            contour.ContourData = [f"{v:.4f}" for v in points.ravel()]
            items.append(contour)
    return items


def build_rtstruct(volume: Volume, labelmap: np.ndarray, table: LabelTable, options: WriterOptions,
                   source: SourceSeries | None = None) -> Dataset:
    """The RTSTRUCT dataset for ``labelmap`` on ``volume``'s grid (not yet saved)."""
    require_codes(table, "RTSTRUCT")
    source = source or source_series(volume)
    table = table.with_colours()
    first = source.datasets[0]
    now = dt.datetime.now()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = RTSTRUCT_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    for keyword in COPIED:
        if keyword in first:
            setattr(ds, keyword, first[keyword].value)
        elif keyword != "SpecificCharacterSet":
            setattr(ds, keyword, "")
    ds.SOPClassUID, ds.SOPInstanceUID = RTSTRUCT_STORAGE, ds.file_meta.MediaStorageSOPInstanceUID
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber = "RTSTRUCT", generate_uid(), RT_SERIES_NUMBER
    ds.SeriesDescription, ds.OperatorsName = options.series_description[:64], ""
    ds.Manufacturer, ds.ManufacturerModelName = "medsee", options.algorithm_name[:64]
    ds.SoftwareVersions = options.version
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = source.frame_of_reference_uid
    ds.PositionReferenceIndicator = first.get("PositionReferenceIndicator", "")
    ds.StructureSetLabel = "MEDSEE"
    ds.StructureSetName = options.algorithm_name[:64]
    ds.StructureSetDate, ds.StructureSetTime = ds.InstanceCreationDate, ds.InstanceCreationTime
    nk = volume.spatial_shape[2]
    ds.ReferencedFrameOfReferenceSequence = [_referenced_frame_of_reference(source, nk)]
    rois, contours, observations = [], [], []
    for number, label in enumerate(table, start=1):
        roi = Dataset()
        roi.ROINumber, roi.ReferencedFrameOfReferenceUID = number, source.frame_of_reference_uid
        roi.ROIName, roi.ROIGenerationAlgorithm = label.name[:64], "AUTOMATIC"
        roi.ROIGenerationDescription = f"{options.algorithm_name} {options.version}"[:64]
        rois.append(roi)
        roi_contour = Dataset()
        roi_contour.ReferencedROINumber = number
        roi_contour.ROIDisplayColor = list(label.colour or (255, 0, 0))
        items = _slice_contours(volume, labelmap == label.value, source)
        if items:
            roi_contour.ContourSequence = items
        contours.append(roi_contour)
        observation = Dataset()
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType, observation.ROIInterpreter = "", ""
        assert label.type is not None
        observation.RTROIIdentificationCodeSequence = [_code_item(label.type)]
        observations.append(observation)
    ds.StructureSetROISequence = rois
    ds.ROIContourSequence = contours
    ds.RTROIObservationsSequence = observations
    return ds


def write_rtstruct(volume: Volume, labelmap: np.ndarray, table: LabelTable, target: str | os.PathLike[str],
                   options: WriterOptions, source: SourceSeries | None = None) -> Path:
    source = source or source_series(volume)
    with building_from_source():
        ds = build_rtstruct(volume, labelmap, table, options, source)
    target = Path(target)
    with atomic_path(target, overwrite=options.overwrite) as tmp, building_from_source():
        ds.save_as(tmp, enforce_file_format=True)
    return target
