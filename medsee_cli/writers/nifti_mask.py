"""NIfTI label maps on exactly the source grid.

When the source itself is a NIfTI file, the mask reuses a copy of its header, so shape, pixdim,
sform/qform (matrices and codes) are byte-identical to the source; only the data type and
scaling change. Other sources (DICOM, NRRD) get the volume's affine as sform and qform.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nibabel as nib
import numpy as np
from isal import igzip

from medsee_cli.io.atomic import atomic_path
from medsee_cli.io.nifti import is_nifti, to_nifti_image
from medsee_cli.io.volume import Volume
from medsee_cli.writers.labels import LabelTable

GEOMETRY_FIELDS = ("dim", "pixdim", "qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d",
                   "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z", "xyzt_units")


def label_dtype(labelmap: np.ndarray) -> np.dtype:
    top = int(labelmap.max(initial=0)) if labelmap.size else 0
    return np.dtype(np.uint8) if top <= 255 else np.dtype(np.uint16)


def _source_header(volume: Volume) -> nib.Nifti1Header | None:
    """The header of the volume's NIfTI source file when it describes exactly this grid."""
    if not volume.source or not is_nifti(volume.source) or not Path(volume.source).is_file():
        return None
    try:
        img = nib.load(volume.source)
    except Exception:
        return None
    if not isinstance(img, nib.Nifti1Image):  # a .nii/.nii.gz file loads as one (or as its NIfTI-2 subclass)
        return None
    if tuple(img.shape[:3]) != volume.spatial_shape or not np.allclose(img.affine, volume.affine, atol=1e-5):
        return None
    header: nib.Nifti1Header = img.header.copy()  # a NIfTI-1 (or NIfTI-2, its subclass) header
    return header


def mask_image(volume: Volume, data: np.ndarray, description: str = "medsee label map") -> nib.Nifti1Image:
    """A NIfTI image of ``data`` on ``volume``'s grid (3D; the source header when there is one)."""
    if tuple(data.shape) != volume.spatial_shape:
        raise ValueError(f"mask shape {data.shape} does not match the grid {volume.spatial_shape}")
    header = _source_header(volume)
    if header is None:
        grid = Volume(dataobj=data, affine=volume.affine, modality=volume.modality)
        img = to_nifti_image(grid, data)
    else:
        header.set_data_shape(data.shape)  # drops a 4th dimension, keeps pixdim[1:4]
        img = nib.Nifti1Image(data, None, header=header)
    img.set_data_dtype(data.dtype)
    img.header["scl_slope"], img.header["scl_inter"] = 1.0, 0.0
    img.header["cal_min"], img.header["cal_max"] = 0.0, float(data.max(initial=0))
    img.header["descrip"] = description.encode()[:79]
    img.header.set_intent("label")
    return img


def save_image(img: nib.Nifti1Image, target: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Save atomically; ``.nii.gz`` is gzipped with ISA-L, with no time in its header (the same
    mask gives the same bytes, whenever and wherever it is written)."""
    target = Path(target)
    data = img.to_bytes()
    if str(target).lower().endswith(".gz"):
        data = igzip.compress(data, compresslevel=1, mtime=0)
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return target


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "target"


def write_label_map(volume: Volume, labelmap: np.ndarray, target: str | os.PathLike[str], *,
                    overwrite: bool) -> Path:
    data = np.asarray(labelmap)
    dtype = label_dtype(data)
    if data.dtype != dtype:
        data = data.astype(dtype)
    return save_image(mask_image(volume, data), target, overwrite=overwrite)


def write_target_masks(volume: Volume, labelmap: np.ndarray, table: LabelTable, folder: Path, *,
                       overwrite: bool) -> dict[str, Path]:
    """One binary mask per label: ``mask_<name>.nii.gz``."""
    written = {}
    for label in table:
        binary = (labelmap == label.value).astype(np.uint8)
        path = folder / f"mask_{safe_name(label.name)}.nii.gz"
        written[f"mask:{label.name}"] = save_image(
            mask_image(volume, binary, f"medsee mask {label.name}"), path, overwrite=overwrite
        )
    return written
