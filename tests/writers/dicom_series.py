"""Test helpers: write small CT series with pydicom, and open DICOM series as `Volume`s.

The volume builder here is deliberately independent of medsee's own DICOM reader: geometry is
computed straight from ImageOrientationPatient / ImagePositionPatient / PixelSpacing, so the
writers are checked against the DICOM definitions, not against our reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from medsee_cli.io.volume import LPS_FROM_RAS, DicomRefs, SliceSource, Volume


def make_ct_series(folder: Path, *, shape=(40, 34, 6), spacing=(0.8, 0.7, 2.5),
                   iop=(1, 0, 0, 0, 1, 0), origin=(-10.0, -12.0, 30.0), seed=0,
                   transfer_syntax: str | None = None, shuffle_files: bool = True) -> list[Path]:
    """Write a CT series of ``shape`` = (columns, rows, slices); returns the file paths.

    ``spacing`` = (along a row, along a column, between slices) in mm. Slice k lies at
    ``origin + k * spacing[2] * normal`` where normal = row x column direction. Files are named
    in a shuffled order so that nothing relies on file names.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ni, nj, nk = shape
    row_dir, col_dir = np.array(iop[:3], float), np.array(iop[3:], float)
    normal = np.cross(row_dir, col_dir)
    rng = np.random.default_rng(seed)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    order = rng.permutation(nk) if shuffle_files else np.arange(nk)
    paths = []
    for k in range(nk):
        ds = Dataset()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID = "Test^Phantom", "PHANTOM01"
        ds.PatientBirthDate, ds.PatientSex = "", "O"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.ReferringPhysicianName = "20240101", "120000", "", ""
        ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 3, k + 1
        ds.Modality, ds.Manufacturer, ds.PositionReferenceIndicator = "CT", "medsee-tests", ""
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in iop]
        ds.ImagePositionPatient = [f"{v:.6f}" for v in np.asarray(origin) + k * spacing[2] * normal]
        ds.PixelSpacing = [spacing[1], spacing[0]]  # row spacing (between rows), column spacing
        ds.SliceThickness = spacing[2]
        ds.KVP, ds.AcquisitionNumber = 120, 1
        ds.Rows, ds.Columns = nj, ni
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        pixels = (rng.integers(900, 1200, size=(nj, ni)) + 10 * k).astype(np.int16)
        ds.PixelData = pixels.tobytes()
        if transfer_syntax is not None and transfer_syntax != ExplicitVRLittleEndian:
            ds.compress(transfer_syntax)
        path = folder / f"img{order[k]:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _frame_geometry(ds: Dataset, frame: int | None):  # type: ignore[no-untyped-def]
    if frame is None:
        return ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.PixelSpacing
    shared = ds.SharedFunctionalGroupsSequence[0]
    per = ds.PerFrameFunctionalGroupsSequence[frame - 1]

    def item(name):  # type: ignore[no-untyped-def]
        return getattr(per, name)[0] if name in per else getattr(shared, name)[0]

    return (item("PlaneOrientationSequence").ImageOrientationPatient,
            item("PlanePositionSequence").ImagePositionPatient,
            item("PixelMeasuresSequence").PixelSpacing)


def volume_from_files(paths: list[Path], *, with_pixels: bool = True) -> Volume:
    """A `Volume` (RAS affine, refs) from single-frame files or one enhanced multi-frame file."""
    datasets = [pydicom.dcmread(p, stop_before_pixels=not with_pixels) for p in paths]
    entries = []  # (dataset, file, frame_number)
    for ds, path in zip(datasets, paths):
        n = int(getattr(ds, "NumberOfFrames", 1))
        multi = "PerFrameFunctionalGroupsSequence" in ds
        for f in range(1, n + 1) if multi else [None]:
            entries.append((ds, str(path), f))
    geoms = [_frame_geometry(ds, f) for ds, _, f in entries]
    iop = np.array(geoms[0][0], float)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    dist = [float(np.dot(np.array(g[1], float), normal)) for g in geoms]
    order = np.argsort(dist, kind="stable")
    seen: set[float] = set()  # several frames at one position (4D): keep the first (t = 0)
    order = [n for n in order if not (round(dist[n], 3) in seen or seen.add(round(dist[n], 3)))]
    entries = [entries[n] for n in order]
    geoms = [geoms[n] for n in order]
    ps = [float(v) for v in geoms[0][2]]
    first, last = np.array(geoms[0][1], float), np.array(geoms[-1][1], float)
    step = (last - first) / max(len(entries) - 1, 1) if len(entries) > 1 else normal * 1.0
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = row_dir * ps[1], col_dir * ps[0], step, first
    ds0 = entries[0][0]
    refs = DicomRefs(
        study_instance_uid=str(ds0.StudyInstanceUID),
        series_instance_uid=str(ds0.SeriesInstanceUID),
        frame_of_reference_uid=str(ds0.FrameOfReferenceUID),
        sop_class_uid=str(ds0.SOPClassUID),
        transfer_syntax_uid=str(ds0.file_meta.TransferSyntaxUID),
        slices=tuple(SliceSource(str(ds.SOPInstanceUID), file, f,
                                 int(ds.InstanceNumber) if ds.get("InstanceNumber") is not None else None)
                     for ds, file, f in entries),
    )
    ni, nj = int(ds0.Columns), int(ds0.Rows)
    if with_pixels:
        data = np.zeros((ni, nj, len(entries)), np.float32)
        cache: dict[int, np.ndarray] = {}
        for k, (ds, _, f) in enumerate(entries):
            arr = cache.setdefault(id(ds), np.asarray(ds.pixel_array))
            frame = arr[f - 1] if f is not None else arr
            slope, inter = float(getattr(ds, "RescaleSlope", 1)), float(getattr(ds, "RescaleIntercept", 0))
            data[:, :, k] = (frame * slope + inter).T
    else:
        data = np.zeros((ni, nj, len(entries)), np.int16)
    return Volume(dataobj=data, affine=LPS_FROM_RAS @ lps, modality=str(ds0.Modality), refs=refs,
                  source=str(Path(paths[0]).parent))
