"""NRRD and MetaImage (.mha/.mhd) through SimpleITK. ITK works in LPS+; we flip to RAS+ here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.volume import LPS_FROM_RAS, Volume

ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")


def is_itk(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(ITK_SUFFIXES)


def read_itk(path: str | os.PathLike[str]) -> Volume:
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise InputError(str(path), f"not a readable NRRD/MetaImage file ({first})") from exc
    if image.GetDimension() == 2:
        image = sitk.JoinSeries(image)
    if image.GetDimension() not in (3, 4):
        raise InputError(str(path), f"{image.GetDimension()}D images are not supported")
    samples = image.GetNumberOfComponentsPerPixel()
    # SimpleITK arrays are indexed [k, j, i]; ours are [i, j, k].
    array = sitk.GetArrayFromImage(image)
    dim = image.GetDimension()
    spatial_axes = tuple(reversed(range(dim)))
    array = np.transpose(array, spatial_axes + ((dim,) if samples > 1 else ()))
    direction = np.array(image.GetDirection(), dtype=np.float64).reshape(dim, dim)[:3, :3]
    spacing = np.array(image.GetSpacing()[:3], dtype=np.float64)
    origin = np.array(image.GetOrigin()[:3], dtype=np.float64)
    lps = np.eye(4)
    lps[:3, :3] = direction * spacing
    lps[:3, 3] = origin
    ras = LPS_FROM_RAS @ lps  # the flip is its own inverse
    modality = _modality_hint(image)
    return Volume(
        dataobj=np.asfortranarray(array),
        affine=ras,
        modality=modality,
        source=str(path),
        samples_per_pixel=samples,
    )


def _modality_hint(image: object) -> str:
    for key in ("Modality", "modality"):
        try:
            if image.HasMetaDataKey(key):  # type: ignore[attr-defined]
                return str(image.GetMetaData(key)).strip().upper() or "OT"  # type: ignore[attr-defined]
        except RuntimeError:
            pass
    return "OT"
