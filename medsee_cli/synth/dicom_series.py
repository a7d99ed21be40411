"""Write a HU volume as a real CT Image Storage series (one file per slice), any affine.

Used for `sample_data/`, tests (oblique, flipped, tilted, compressed, with missing slices) and
benchmarks. Geometry comes from the RAS+ affine, converted to DICOM's LPS at this boundary.
Stored values are HU + 1024 in 12 bits with RescaleIntercept -1024, as most CT scanners do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    PYDICOM_IMPLEMENTATION_UID,
    generate_uid,
)

from medsee_cli import __version__
from medsee_cli.io.volume import LPS_FROM_RAS

UID_PREFIX = "1.2.826.0.1.3680043.10.1461."  # medsee's synthetic-data UIDs
ENCAPSULATED = {
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1 (decode only in pydicom: not writable)
}


@dataclass(frozen=True)
class SeriesOptions:
    transfer_syntax: str = ExplicitVRLittleEndian
    patient_name: str = "MEDSEE^PHANTOM"
    patient_id: str = "MEDSEE-0001"
    series_number: int = 1
    series_description: str = "medsee synthetic abdomen"
    study_uid: str | None = None
    series_uid: str | None = None
    frame_of_reference_uid: str | None = None
    seed_uids: str | None = None  # derive UIDs deterministically from this text
    file_pattern: str = "IM{index:05d}.dcm"


def _uid(options: SeriesOptions, what: str) -> str:
    if options.seed_uids is None:
        return generate_uid(prefix=UID_PREFIX)
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=[options.seed_uids, what])


def write_ct_series(hu: np.ndarray, affine_ras: np.ndarray, folder: Path, options: SeriesOptions = SeriesOptions()) -> list[Path]:
    """Write ``hu[i, j, k]`` (HU) as slices k = 0..n-1; returns the file paths."""
    folder.mkdir(parents=True, exist_ok=True)
    lps = LPS_FROM_RAS @ np.asarray(affine_ras, dtype=np.float64)
    col_step, row_step = lps[:3, 0], lps[:3, 1]
    dx, dy = float(np.linalg.norm(col_step)), float(np.linalg.norm(row_step))
    orientation = np.concatenate([col_step / dx, row_step / dy])
    study = options.study_uid or _uid(options, "study")
    series = options.series_uid or _uid(options, "series")
    frame_of_reference = options.frame_of_reference_uid or _uid(options, "for")
    stored = np.clip(np.asarray(hu, dtype=np.int32) + 1024, 0, 4095).astype(np.uint16)
    thickness = float(np.linalg.norm(lps[:3, 2]))
    paths = []
    for k in range(hu.shape[2]):
        position = lps @ np.array([0.0, 0.0, float(k), 1.0])
        ds = _slice_dataset(options, study, series, frame_of_reference, k)
        ds.ImagePositionPatient = [f"{v:.6f}" for v in position[:3]]
        ds.ImageOrientationPatient = [f"{v:.8f}" for v in orientation]
        ds.PixelSpacing = [f"{dy:.6f}", f"{dx:.6f}"]
        ds.SliceThickness = f"{thickness:.6f}"
        ds.SliceLocation = f"{position[2]:.6f}"
        plane = np.ascontiguousarray(stored[:, :, k].T)
        ds.Rows, ds.Columns = plane.shape
        ds.PixelData = plane.tobytes()
        path = folder / options.file_pattern.format(index=k + 1)
        _save(ds, path, options.transfer_syntax)
        paths.append(path)
    return paths


def _slice_dataset(options: SeriesOptions, study: str, series: str, frame_of_reference: str, k: int) -> Dataset:
    sop_uid = _uid(options, f"sop{k}")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20260101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.AccessionNumber = ""
    ds.Modality = "CT"
    ds.Manufacturer = "medsee synthetic"
    ds.ManufacturerModelName = "phantom"
    ds.SoftwareVersions = __version__
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = options.series_description
    ds.PatientName = options.patient_name
    ds.PatientID = options.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.BodyPartExamined = "ABDOMEN"
    ds.KVP = "120"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.StudyID = "1"
    ds.SeriesNumber = options.series_number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = k + 1
    ds.FrameOfReferenceUID = frame_of_reference
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    return ds


def _save(ds: Dataset, path: Path, transfer_syntax: str) -> None:
    syntax = UID(transfer_syntax)
    if syntax in ENCAPSULATED:
        ds.compress(syntax)
    else:
        ds.file_meta.TransferSyntaxUID = syntax
    implicit = syntax == ImplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True, implicit_vr=implicit, little_endian=True)
