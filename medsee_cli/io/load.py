"""`load_volume`: open any supported image source as one `Volume`."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from medsee_cli.errors import InputError
from medsee_cli.io.itk import is_itk, read_itk
from medsee_cli.io.nifti import is_nifti, read_nifti
from medsee_cli.io.volume import Volume

# 2D pictures: no geometry (pixel size, orientation, position), so no volume; `medsee eval` scores them
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def load_volume(source: str | os.PathLike[str], *, series: str | None = None) -> Volume:
    """Open a NIfTI / NRRD / MetaImage file, a DICOM file, series folder or zip.

    A folder or zip holding several series needs ``series`` (a SeriesInstanceUID, or the
    ``series_key`` shown by `medsee ingest`); otherwise the error lists how many there are.
    """
    path = Path(source)
    if not path.exists():
        raise InputError(str(path), "no such file or folder")
    if path.is_file() and is_nifti(path):
        return read_nifti(path)
    if path.is_file() and is_itk(path):
        return read_itk(path)
    if path.is_file() and path.suffix.lower() in PICTURE_SUFFIXES:
        raise InputError(str(path), "a 2D picture without geometry: ask and segment read DICOM, NIfTI, NRRD and "
                                    "MetaImage; pictures are scored with medsee eval")
    if path.is_dir() or zipfile.is_zipfile(path) or path.is_file():
        from medsee_cli.io.dicom.reader import read_dicom_volume

        return read_dicom_volume(path, series=series)
    raise InputError(str(path), "not a file or folder medsee can read")
