"""Reading the 2D slices and masks that evaluation datasets hold (PNG, DICOM, NIfTI, .npy).

2D arrays come back ``[row, col]``. A NIfTI slice is stored ``[i, j]`` (i along a row), so it
is transposed here; its spacing becomes ``(row_mm, col_mm) = (sj, si)``. A slice read from a
file with geometry (NIfTI affine, DICOM position and orientation) carries the affine of its
``(row, col, 0)`` grid, so evaluation knows its orientation; a picture has none.
PNG holds no physical units: a 16-bit greyscale PNG may carry HU with an offset
(``png_hu_offset``, e.g. 1024 -> value - 1024), an 8-bit one is a display window whose centre
and width the dataset states. Without spacing metadata a PNG has 1 "mm" per pixel, and the
item says so (``spacing_known = False``), so surface distances are then in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.load import PICTURE_SUFFIXES

NIFTI_SUFFIXES = (".nii", ".nii.gz")
VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


@dataclass(frozen=True)
class Slice2D:
    array: np.ndarray
    spacing: tuple[float, float] = (1.0, 1.0)
    spacing_known: bool = False
    window: tuple[float, float] | None = None
    affine: np.ndarray | None = None  # (row, col, 0) -> RAS+ mm; None: orientation unknown


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def read_slice(path: Path, *, png_hu_offset: float | None = None) -> Slice2D:
    """One 2D image; HU for DICOM/NIfTI CT, HU for 16-bit PNG with an offset, else raw values."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    kind = _suffix(path)
    if kind in PICTURE_SUFFIXES:
        array = _read_picture(path)
        if png_hu_offset is not None and array.ndim == 2:
            array = array.astype(np.float32) - float(png_hu_offset)
        return Slice2D(array=array)
    if kind in NIFTI_SUFFIXES:
        array, spacing, affine = _read_nifti_2d(path)
        return Slice2D(array=array.astype(np.float32), spacing=spacing, spacing_known=True, affine=affine)
    if kind == ".npy":
        return Slice2D(array=_read_npy(path))
    return _read_dicom_slice(path)


def read_mask(path: Path) -> np.ndarray:
    """A 2D mask as bool ``[row, col]``: any non-zero value (any channel) is foreground."""
    if not path.is_file():
        raise InputError(str(path), "no such mask file")
    kind = _suffix(path)
    if kind in PICTURE_SUFFIXES:
        array = _read_picture(path)
    elif kind in NIFTI_SUFFIXES:
        array, _, _ = _read_nifti_2d(path)
    elif kind == ".npy":
        array = _read_npy(path)
    else:
        raise InputError(str(path), f"unsupported mask format {kind!r} (use PNG, NIfTI or .npy)")
    require_finite(array, path)
    if array.ndim == 3:
        array = np.asarray(array.any(axis=2))
    if array.ndim != 2:
        raise InputError(str(path), f"a 2D mask was expected, found shape {array.shape}")
    return array != 0


def require_finite(array: np.ndarray, path: Path) -> None:
    """The rule for masks and label maps: every value finite. NaN or infinity is neither
    foreground nor background, so the item is refused (one line) rather than guessed."""
    if np.issubdtype(array.dtype, np.inexact):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise InputError(str(path), f"mask or label map holds {bad} NaN or infinite value(s); "
                                        "a mask must be finite (0 = background)")


def mask_from(array: np.ndarray, path: Path, label: object = None) -> np.ndarray:
    """Boolean mask from a mask (non-zero = target) or a label map (== ``label``), finite only."""
    require_finite(array, path)
    return np.asarray(array != 0) if label in (None, "") else np.asarray(array == int(str(label)))


def _read_picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                return np.asarray(img, dtype=np.int32)
            return np.asarray(img if img.mode in ("L", "RGB", "1") else img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(str(path), f"not a readable image ({exc})") from exc


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(str(path), f"not a readable .npy array ({exc})") from exc


def _read_nifti_2d(path: Path) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    import nibabel as nib

    from medsee_cli.eval.items import plane_affine

    try:
        img = nib.load(str(path))
        if not isinstance(img, nib.Nifti1Image):  # what a .nii/.nii.gz file loads as (NIfTI-2 included)
            raise TypeError(type(img).__name__)
        data = np.asarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(str(path), f"not a readable NIfTI file ({exc.__class__.__name__})") from exc
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim != 2:
        raise InputError(str(path), f"a 2D slice was expected (X x Y or X x Y x 1), found shape {data.shape}")
    zooms = img.header.get_zooms()
    return data.T, (float(zooms[1]), float(zooms[0])), plane_affine(np.asarray(img.affine), 0)


def _read_dicom_slice(path: Path) -> Slice2D:
    import pydicom

    try:
        ds = pydicom.dcmread(str(path))
        array = ds.pixel_array.astype(np.float32)
    except Exception as exc:  # pydicom raises many types for broken files
        raise InputError(str(path), f"not a readable DICOM image ({exc.__class__.__name__})") from exc
    if array.ndim != 2:
        raise InputError(str(path), f"a single-frame greyscale DICOM slice was expected, found shape {array.shape}")
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    array = array * slope + intercept
    spacing_attr = getattr(ds, "PixelSpacing", None)
    spacing = (float(spacing_attr[0]), float(spacing_attr[1])) if spacing_attr else (1.0, 1.0)
    window = None
    centre, width = getattr(ds, "WindowCenter", None), getattr(ds, "WindowWidth", None)
    if centre is not None and width is not None:
        window = (_first_number(centre), _first_number(width))
    return Slice2D(array=array, spacing=spacing, spacing_known=spacing_attr is not None, window=window,
                   affine=_dicom_plane_affine(ds, spacing))


def _dicom_plane_affine(ds: Any, spacing: tuple[float, float]) -> np.ndarray | None:
    """(row, col, 0) -> RAS+ from ImageOrientationPatient / ImagePositionPatient; None without them."""
    from medsee_cli.eval.items import plane_affine
    from medsee_cli.io.dicom.geometry import stack_geometry

    try:
        cosines = tuple(float(v) for v in ds.ImageOrientationPatient)
        origin = np.array([[float(v) for v in ds.ImagePositionPatient]])
        lps = stack_geometry("slice", cosines, spacing, origin, None).affine_lps  # [column, row, 0]
    except (AttributeError, TypeError, ValueError, IndexError):
        return None
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ plane_affine(lps, 0)


def _first_number(value: Any) -> float:
    """DICOM window values may be multi-valued; the first pair is the default window."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__getitem__"):
        return float(value)
    return float(value[0])


def read_volume(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 3D array ``[i, j, k]`` and its spacing, through `medsee_cli.io.load_volume`."""
    array, spacing, _ = read_grid(path)
    return array, spacing


def read_grid(path: Path) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """A 3D array ``[i, j, k]``, its spacing and its voxel -> RAS+ affine."""
    from medsee_cli.io import load_volume

    volume = load_volume(path)
    if volume.n_volumes != 1 or volume.samples_per_pixel != 1:
        raise InputError(str(path), f"a single 3D greyscale volume was expected, found shape {volume.shape}")
    return volume.array(), volume.spacing, np.asarray(volume.affine, dtype=np.float64)
