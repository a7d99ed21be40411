"""Finding a case's output file and reading it as a `CaseGrid` (a label map and its affine)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.adapters.grid import CaseGrid
from medsee_cli.eval.imaging import require_finite
from medsee_cli.eval.items import EvalItem, safe_id

VOLUME_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")
PICTURE_SUFFIXES = (".png", ".bmp")  # 2D label maps (nnU-Net natural-image datasets)


def names_of(item: EvalItem) -> tuple[str, ...]:
    """The file stems a case output may have: its case id as given, then made file-safe."""
    return tuple(dict.fromkeys(n for n in (item.case_id, safe_id(item.case_id)) if n))


def first_file(folder: Path, stems: Iterable[str], suffixes: Iterable[str]) -> Path | None:
    """``folder/STEM+SUFFIX`` for the first stem and suffix that names a file."""
    kinds = tuple(suffixes)
    return next((folder / f"{stem}{s}" for stem in stems for s in kinds if (folder / f"{stem}{s}").is_file()), None)


def first_folder(folder: Path, stems: Iterable[str]) -> Path | None:
    return next((folder / stem for stem in stems if (folder / stem).is_dir()), None)


def stem_of(path: Path) -> str:
    """The name without its image suffix (``liver.nii.gz`` -> ``liver``)."""
    name = path.name
    for suffix in (*VOLUME_SUFFIXES, *PICTURE_SUFFIXES, ".npz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def whole_numbers(array: np.ndarray, path: Path) -> np.ndarray:
    """A label map's values: finite integers (a probability map is refused, not thresholded)."""
    require_finite(array, path)
    if np.issubdtype(array.dtype, np.inexact) and not np.array_equal(array, np.round(array)):
        raise InputError(str(path), "holds fractional values: a label map or mask of integers was expected")
    return array


def read_label_grid(path: Path) -> CaseGrid:
    """A label map or mask file: NIfTI / NRRD / MHA (3D, with its RAS+ affine) or a picture (2D)."""
    if path.name.lower().endswith(PICTURE_SUFFIXES):
        return CaseGrid(array=whole_numbers(_read_picture(path), path), affine=None, path=path)
    from medsee_cli.io import load_volume

    volume = load_volume(path)
    array = volume.array()
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[:, :, :, 0]
    if array.ndim != 3 or volume.samples_per_pixel != 1:
        raise InputError(str(path), f"a 3D label map was expected, found shape {tuple(array.shape)}")
    return CaseGrid(array=whole_numbers(array, path), affine=np.asarray(volume.affine), path=path)


def _read_picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            array = np.asarray(img)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(str(path), f"not a readable image ({exc})") from exc
    if array.ndim != 2:
        raise InputError(str(path), f"a one-channel label image was expected, found shape {array.shape}")
    return array
