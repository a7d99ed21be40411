"""NRRD and MetaImage (.mha/.mhd) through SimpleITK. ITK works in LPS+; we flip to RAS+ here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.io.volume import LPS_FROM_RAS, Volume

if TYPE_CHECKING:
    import SimpleITK as sitk

ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")
HEADER_BYTES = 8192  # NRRD/MetaImage text headers are far shorter
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand its input more than ~1032-fold


def is_itk(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(ITK_SUFFIXES)


def read_itk(path: str | os.PathLike[str]) -> Volume:
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    try:
        _check_data_size(path, sitk)
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


def _check_data_size(path: Path, sitk: Any) -> None:
    """Refuse a header that claims more voxel data than the file holds, before any allocation.

    Only where that is cheap to know: single-file NRRD/MetaImage whose voxels follow the header
    raw (the file must be at least that long) or gzip/zlib-compressed (deflate expands at most
    ~1032-fold). Detached data files and other encodings are left to ITK.
    """
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    voxels = 1
    for n in reader.GetSize():
        voxels *= int(n)
    item = sitk.Image([1] * reader.GetDimension(), reader.GetPixelID()).GetSizeOfPixelComponent()
    needed = voxels * int(item) * int(reader.GetNumberOfComponents())
    encoding = _data_encoding(path)
    size = path.stat().st_size
    claims = f"the header claims {'x'.join(str(int(n)) for n in reader.GetSize())} voxels ({needed} bytes)"
    if encoding == "raw" and size < needed:
        raise InputError(str(path), f"{claims} but the file has {size} bytes: truncated file or corrupt header")
    if encoding == "deflate" and needed > size * DEFLATE_MAX_RATIO + (1 << 16):
        raise InputError(str(path), f"{claims} but the compressed file ({size} bytes) can hold at most "
                                    f"{size * DEFLATE_MAX_RATIO}: corrupt header or truncated file")


def _data_encoding(path: Path) -> str:
    """``raw``, ``deflate`` or ``unknown`` (detached data, text, bzip2...), from the text header."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES).decode("latin-1").lower()
    lines = {line.split(":" if ":" in line else "=")[0].strip(): line for line in head.splitlines() if line.strip()}
    if path.suffix.lower() == ".nrrd":
        if "data file" in lines or "datafile" in lines:
            return "unknown"
        value = lines.get("encoding", "").split(":", 1)[-1].strip()
        return {"raw": "raw", "gzip": "deflate", "gz": "deflate"}.get(value, "unknown")
    if path.suffix.lower() == ".mha":
        if lines.get("elementdatafile", "").split("=", 1)[-1].strip() != "local":
            return "unknown"
        compressed = lines.get("compresseddata", "").split("=", 1)[-1].strip() == "true"
        return "deflate" if compressed else "raw"
    return "unknown"


def _modality_hint(image: sitk.Image) -> str:
    for key in ("Modality", "modality"):
        try:
            if image.HasMetaDataKey(key):
                return str(image.GetMetaData(key)).strip().upper() or "OT"
        except RuntimeError:
            pass
    return "OT"
