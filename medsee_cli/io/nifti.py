"""NIfTI reading and writing (RAS+ on both sides, so no flip is needed here).

Writing gzips with ISA-L (``isal``) at level 1 on two threads: several times faster than zlib
for the same format, which is what keeps `medsee ingest` near the speed of an uncompressed
converter.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import nibabel as nib
import numpy as np
from isal import igzip_threaded

from medsee_cli.errors import InputError
from medsee_cli.io.atomic import atomic_path
from medsee_cli.io.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand its input more than ~1032-fold
GZIP_SLACK = 1 << 16  # room for small files: headers, extensions, gzip framing
INTENT_VECTOR = 1007


def is_nifti(path: str | os.PathLike[str]) -> bool:
    name = str(path).lower()
    return name.endswith(NIFTI_SUFFIXES)


def read_nifti(path: str | os.PathLike[str]) -> Volume:
    """Open a NIfTI file lazily (memory-mapped when uncompressed)."""
    path = Path(path)
    try:
        img = nib.load(str(path), mmap="r")
    except FileNotFoundError as exc:
        raise InputError(str(path), "no such file") from exc
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(str(path), f"not a readable NIfTI file ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise InputError(str(path), f"not a NIfTI image but {type(img).__name__}")
    _check_data_size(path, img.header)
    shape = img.shape
    samples = 1
    if len(shape) == 5 and int(img.header.get("intent_code", 0)) == INTENT_VECTOR:
        samples = shape[4]
    if len(shape) == 2:
        raise InputError(str(path), "2D NIfTI images are not volumes (expected 3D or 4D)")
    if len(shape) > 4 and samples == 1:
        raise InputError(str(path), f"{len(shape)}D NIfTI is not supported (shape {shape})")
    dataobj: Any = CheckedData(img.dataobj, str(path))
    if samples > 1:
        dataobj = np.asarray(dataobj)[:, :, :, 0, :]
    modality = _modality_from_sidecar(path)
    return Volume(
        dataobj=dataobj,
        affine=img.affine,
        modality=modality,
        source=str(path),
        samples_per_pixel=samples,
    )


def _check_data_size(path: Path, header: Any) -> None:
    """Refuse a header that claims more voxel data than the file can hold, before any read.

    Uncompressed: the file must reach ``vox_offset + voxels * itemsize`` bytes. Gzipped: deflate
    expands at most ~1032-fold, so a file of N bytes cannot hold more than that many.
    """
    shape = tuple(int(n) for n in header.get_data_shape())
    needed = int(header.get_data_offset())
    voxels = 1
    for n in shape:
        voxels *= n
    needed += voxels * header.get_data_dtype().itemsize
    size = path.stat().st_size
    claims = f"the header claims {'x'.join(map(str, shape))} voxels ({_bytes(needed)})"
    if str(path).lower().endswith(".gz"):
        if needed > size * DEFLATE_MAX_RATIO + GZIP_SLACK:
            raise InputError(str(path), f"{claims} but the gzip file ({_bytes(size)}) can hold at most "
                                        f"{_bytes(size * DEFLATE_MAX_RATIO)}: corrupt header or truncated file")
    elif size < needed:
        raise InputError(str(path), f"{claims} but the file has {_bytes(size)}: truncated file or corrupt header")


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


class CheckedData:
    """A file's lazy voxel data: a read that meets truncated or corrupt compressed data raises
    `InputError` naming the file, wherever the read is forced (``array()``, ``slab()``...).

    A gzipped file is inflated once, on the first read, and kept in its stored type (int16 stays
    int16; scaling is applied per read): a gzip stream cannot seek, so reading it slab by slab
    would inflate it from its start for every slab, a cost that grows with the square of the
    slice count (on a 512 x 512 x 300 CT, more CPU than the model itself)."""

    def __init__(self, proxy: Any, source: str) -> None:
        self._proxy = proxy
        self.source = source
        self._inflate_once = source.lower().endswith(".gz") and hasattr(proxy, "get_unscaled")
        self._stored: Optional[np.ndarray] = None
        self._lock = threading.Lock()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._proxy.shape)

    @property
    def dtype(self) -> Any:
        return self._proxy.dtype

    @property
    def ndim(self) -> int:
        return len(self._proxy.shape)

    def _whole_stored(self) -> np.ndarray:
        with self._lock:
            if self._stored is None:
                with read_errors(self.source):
                    stored = np.asarray(self._proxy.get_unscaled())
                    _verify_gzip(self.source)
                self._stored = stored
            return self._stored

    def _scaled(self, stored: np.ndarray) -> np.ndarray:
        from nibabel.volumeutils import apply_read_scaling

        return np.asarray(apply_read_scaling(stored, self._proxy.slope, self._proxy.inter))

    def __getitem__(self, key: Any) -> Any:
        if self._inflate_once:
            return self._scaled(self._whole_stored()[key])
        with read_errors(self.source):
            return self._proxy[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._inflate_once:
            array = self._scaled(self._whole_stored())
        else:
            with read_errors(self.source):
                array = np.asarray(self._proxy)
                if self.source.lower().endswith(".gz"):
                    _verify_gzip(self.source)
        return array if dtype is None else array.astype(dtype, copy=False)


def _verify_gzip(source: str) -> None:
    """Decompress to the end so the gzip CRC is checked: damage that still inflates (a flipped
    byte in a stored block) would otherwise pass as wrong voxels. ISA-L makes this cheap."""
    from isal import igzip

    with igzip.open(source, "rb") as stream:
        while stream.read(16 << 20):
            pass


@contextlib.contextmanager
def read_errors(source: str) -> Iterator[None]:
    """Turn what a damaged file raises while its voxels are read into one `InputError`."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(source, f"truncated or corrupt gzip data ({exc.__class__.__name__}: {exc})") from exc
    except OSError as exc:
        raise InputError(source, f"voxel data cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:  # a memory map over a file shorter than the header says
        raise InputError(source, f"voxel data cannot be read ({exc})") from exc


def _modality_from_sidecar(path: Path) -> str:
    """Modality from a JSON sidecar next to the file (ours or dcm2niix's), else ``"OT"``."""
    name = path.name
    stem = name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else path.stem
    sidecar = path.with_name(stem + ".json")
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            return "OT"
        value = meta.get("modality") or meta.get("Modality")
        if isinstance(value, str) and value:
            return value.upper()
    return "OT"


def to_nifti_image(volume: Volume, data: np.ndarray | None = None) -> nib.Nifti1Image:
    """A `Nifti1Image` with the volume's affine as both sform and qform (code 1, scanner)."""
    array = volume.array() if data is None else data
    if volume.samples_per_pixel > 1:
        array = array[:, :, :, np.newaxis, :]
    img = nib.Nifti1Image(array, volume.affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_sform(volume.affine, code=1)
    if _is_rigid(volume.affine):
        img.set_qform(volume.affine, code=1)
    else:  # a sheared affine (gantry tilt) cannot be a qform; say so rather than approximate
        img.set_qform(None, code=0)
    if volume.samples_per_pixel > 1:
        img.header.set_intent("vector")
    return img


def _is_rigid(affine: np.ndarray) -> bool:
    m = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return bool(np.allclose(m.T @ m, np.eye(3), atol=1e-4))


def write_nifti(
    volume: Volume,
    target: str | os.PathLike[str],
    *,
    data: np.ndarray | None = None,
    compresslevel: int = 1,
    overwrite: bool = True,
) -> Path:
    """Write ``volume`` (or ``data`` on its grid) atomically; ``.nii.gz`` is gzipped with ISA-L."""
    target = Path(target)
    img = to_nifti_image(volume, data)
    with atomic_path(target, overwrite=overwrite) as tmp:
        if str(target).lower().endswith(".gz"):
            with igzip_threaded.open(tmp, "wb", compresslevel=compresslevel, threads=2) as fh:
                _write_image(img, fh)
        else:
            with open(tmp, "wb") as plain:
                _write_image(img, plain)
    return target


def _write_image(img: nib.Nifti1Image, fh: Any) -> None:
    """Stream header then voxels, in order (the gzip stream cannot seek, and needs no copy)."""
    array = np.asanyarray(img.dataobj)
    header = img.header
    header.set_data_dtype(array.dtype)
    header.set_data_shape(array.shape)
    header.set_slope_inter(None, None)
    offset = 352
    header.set_data_offset(offset)
    head = io.BytesIO()
    header.write_to(head)
    raw = head.getvalue()
    fh.write(raw + b"\0" * (offset - len(raw)))
    data = array if array.flags.f_contiguous else np.asfortranarray(array)
    flat = data.T.data.cast("B") if data.ndim else memoryview(data.tobytes())
    step = 16 << 20
    for start in range(0, len(flat), step):
        fh.write(flat[start : start + step])
