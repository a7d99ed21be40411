"""Decode the frames of a `SeriesPlan` into one array ``[i, j, k(, t)]`` with rescale applied.

Each file's pixel data are read once, and its header is not parsed again where the header scan
kept it (`source_header`). Uncompressed little-endian frames take a zero-parse fast path
(``numpy.frombuffer`` over the pixel bytes at the file's end); everything else goes through
pydicom's pixel handlers (pylibjpeg: JPEG, JPEG-LS, JPEG 2000 incl. HTJ2K, RLE; pydicom: deflate,
big endian), on the kept header plus the elements read from the pixel data on, or on the whole
file where no header was kept. Files are decoded on a thread pool. Rescale slope/intercept become
HU for CT: the result stays int16 when the values fit, float32 when a slope is not 1.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydicom.dataset import Dataset

from medsee_cli.errors import InputError
from medsee_cli.io.dicom.access import Location, read_dataset
from medsee_cli.io.dicom.header import NO_FILE_META, FrameHeader
from medsee_cli.io.dicom.series import SeriesPlan
from medsee_cli.io.dicom.source_header import CHANGED, SourceHeader

NATIVE_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def decode_plan(plan: SeriesPlan, *, workers: int | None = None,
                kept: Mapping[str, SourceHeader] | None = None) -> np.ndarray:
    """The voxel array of ``plan``: shape ``plan.shape`` (+ a trailing 3 for colour).

    ``kept``: headers the scan kept (by location); a file with one is not parsed again, only
    its pixel data are read (`SourceHeader.with_pixels`)."""
    first = plan.first
    n_frames = len(plan.frames)
    colour = first.samples_per_pixel > 1
    raw_shape = (first.columns, first.rows, n_frames) + ((first.samples_per_pixel,) if colour else ())
    stored = _stored_dtype(first)
    raw = np.empty(raw_shape, dtype=stored, order="F")
    by_file: dict[str, list[tuple[int, FrameHeader]]] = defaultdict(list)
    for index, frame in enumerate(plan.frames):
        by_file[frame.location].append((index, frame))

    def work(location: str) -> None:
        _decode_file(location, by_file[location], raw, (kept or {}).get(location))

    n_workers = workers or default_workers()
    if n_workers == 1 or len(by_file) == 1:
        for location in by_file:
            work(location)
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for _ in pool.map(work, list(by_file)):
                pass
    out = raw if colour else _rescale(raw, plan.frames)
    final_shape = plan.shape + ((first.samples_per_pixel,) if colour else ())
    return out.reshape(final_shape, order="F")


def _stored_dtype(h: FrameHeader) -> np.dtype:
    if h.samples_per_pixel > 1:
        return np.dtype(np.uint8 if h.bits_allocated == 8 else np.uint16)
    if h.bits_allocated == 1:
        return np.dtype(np.uint8)
    size = {8: 1, 16: 2, 32: 4}.get(h.bits_allocated)
    if size is None:
        raise InputError(h.location, f"unsupported BitsAllocated {h.bits_allocated}")
    kind = "i" if h.pixel_representation == 1 else "u"
    return np.dtype(f"{kind}{size}")


def _decode_file(location: str, frames: list[tuple[int, FrameHeader]], raw: np.ndarray,
                 header: SourceHeader | None) -> None:
    first = frames[0][1]
    native = _fast_path_ok(first)
    plane = _tail_plane(location, first, header.stat if header is not None else None) if native else None
    if plane is None:
        ds = _pixel_dataset(location, header)
        if "PixelData" not in ds:
            raise InputError(location, "pixel data missing or truncated (the file ends early)")
        if NO_FILE_META in first.quirks:
            _adopt_detected_syntax(ds, first, location)
        if native:
            plane = _native_frame(ds, first, location)
    if plane is not None:  # single-frame native file: the same plane for every index it fills
        for index, _frame in frames:
            raw[:, :, index] = plane.T
        return
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        raise InputError(location, f"pixel data cannot be decoded ({_short(exc)})") from exc
    expected_frames = first.number_of_frames
    for index, frame in frames:
        if expected_frames > 1:
            if pixels.shape[0] < (frame.frame_number or 1):
                raise InputError(location, f"frame {frame.frame_number} is missing from the pixel data")
            plane = pixels[(frame.frame_number or 1) - 1]
        else:
            plane = pixels
        if first.samples_per_pixel > 1:
            raw[:, :, index, :] = np.swapaxes(plane, 0, 1)
        else:
            raw[:, :, index] = plane.T


def _pixel_dataset(location: str, header: SourceHeader | None) -> Dataset:
    """The file's dataset with its pixel data: the kept header plus the pixel data read after it,
    or (no header kept, or not readable that way) the whole file."""
    try:
        ds = header.with_pixels(location) if header is not None else None
        return ds if ds is not None else read_dataset(Location.parse(location))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(location, f"cannot be read ({_short(exc)})") from exc


def _adopt_detected_syntax(ds: Dataset, h: FrameHeader, location: str) -> None:
    """A file without meta header: its dataset encoding is known, a compression never is."""
    if ds["PixelData"].is_undefined_length:
        raise InputError(
            location,
            "no file meta header, and the pixel data are compressed (encapsulated): "
            "the transfer syntax needed to decode them is unknown",
        )
    from pydicom.dataset import FileMetaDataset

    meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    meta.TransferSyntaxUID = h.transfer_syntax_uid
    ds.file_meta = meta


def _fast_path_ok(h: FrameHeader) -> bool:
    return (
        h.transfer_syntax_uid in NATIVE_LITTLE_ENDIAN
        and h.samples_per_pixel == 1
        and h.bits_allocated in (8, 16, 32)
        and h.number_of_frames == 1
    )


PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"


def _tail_plane(location: str, h: FrameHeader, stat: tuple[int, int] | None) -> np.ndarray | None:
    """The frame of an uncompressed file whose last element is Pixel Data of the exact size.

    Reads only the tail of the file (no dataset parsing). Returns None whenever the layout is
    anything else (trailing elements, padding, zip member), and the caller uses pydicom.
    ``stat``: the file's (size, mtime) when its header was read; other ones are an `InputError`
    (the pixels would not be those of the header the frame was placed with).
    """
    loc = Location.parse(location)
    if loc.member is not None:
        return None
    dtype = _stored_dtype(h).newbyteorder("<")
    nbytes = h.rows * h.columns * dtype.itemsize
    try:
        with open(loc.path, "rb") as fh:
            now = loc.stat_key(fh)
            if stat is not None and now != stat:
                raise InputError(location, CHANGED)
            size = now[0]
            offset = size - nbytes
            if offset < 12:
                return None
            fh.seek(offset - 12)
            head = fh.read(12)
            data = fh.read(nbytes)
    except OSError:
        return None
    length = int.from_bytes(head[8:12], "little")
    if h.transfer_syntax_uid == "1.2.840.10008.1.2.1":
        matches = head[0:4] == PIXEL_DATA_TAG and head[4:6] in (b"OW", b"OB") and head[6:8] == b"\0\0"
    else:
        matches = head[4:8] == PIXEL_DATA_TAG
    if not matches or length != nbytes or len(data) != nbytes:
        return None
    return _plane_from_bytes(data, h)


def _native_frame(ds: Dataset, h: FrameHeader, location: str) -> np.ndarray:
    buffer = ds.PixelData
    needed = h.rows * h.columns * _stored_dtype(h).itemsize
    if len(buffer) < needed:
        raise InputError(location, f"truncated pixel data ({len(buffer)} of {needed} bytes)")
    return _plane_from_bytes(buffer, h)


def _plane_from_bytes(buffer: bytes, h: FrameHeader) -> np.ndarray:
    """One little-endian native frame as (rows, columns), with BitsStored applied."""
    dtype = _stored_dtype(h).newbyteorder("<")
    plane = np.frombuffer(buffer, dtype=dtype, count=h.rows * h.columns).reshape(h.rows, h.columns)
    return _apply_bits_stored(plane, h) if h.bits_stored < h.bits_allocated else plane


def _apply_bits_stored(plane: np.ndarray, h: FrameHeader) -> np.ndarray:
    shift = h.bits_allocated - h.bits_stored
    if h.pixel_representation == 1:  # sign-extend from BitsStored
        return (plane << shift) >> shift
    masked: np.ndarray = plane & np.array((1 << h.bits_stored) - 1, dtype=plane.dtype)
    return masked


def _rescale(raw: np.ndarray, frames: tuple[FrameHeader, ...]) -> np.ndarray:
    slopes = np.array([f.slope for f in frames], dtype=np.float64)
    intercepts = np.array([f.intercept for f in frames], dtype=np.float64)
    if np.all(slopes == 1.0) and np.all(intercepts == np.round(intercepts)):
        if np.all(intercepts == 0):
            return raw
        low, high = int(raw.min()), int(raw.max())
        lo_i, hi_i = int(intercepts.min()), int(intercepts.max())
        target = np.int16 if (low + lo_i >= -32768 and high + hi_i <= 32767) else np.int32
        out = np.empty(raw.shape, dtype=target, order="F")
        if np.all(intercepts == intercepts[0]):
            np.add(raw, np.int32(intercepts[0]), out=out, casting="unsafe")
        else:
            for index, value in enumerate(intercepts):
                np.add(raw[:, :, index], np.int32(value), out=out[:, :, index], casting="unsafe")
        return out
    out = np.empty(raw.shape, dtype=np.float32, order="F")
    for index, (slope, intercept) in enumerate(zip(slopes, intercepts)):
        np.multiply(raw[:, :, index], slope, out=out[:, :, index], casting="unsafe")
        out[:, :, index] += np.float32(intercept)
    return out


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:160]
