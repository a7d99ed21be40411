"""A DICOM-SEG file as a dataset highdicom can parse, whatever its transfer syntax.

highdicom reads little-endian SEGs whose pixels pydicom can decode. Three encodings the standard
allows fall outside that, and are rewritten here, in memory only, as Explicit VR Little Endian
with native pixel data (the file is never touched):

- Explicit VR Big Endian (retired, still found in archives): highdicom refuses it. pydicom
  parses the values; binary values of VR OW/OF/OL/OD/OV stay in file byte order and are swapped.
  OB (1-bit BINARY and 8-bit frames) is a byte stream and needs no swap.
- Deflated Image Frame Compression (1.2.840.10008.1.2.8.1, DICOM 2024): each frame is a raw
  DEFLATE stream of the native frame bytes; pydicom 3.0 does not know the syntax.
- RLE Lossless with 1 bit allocated (BINARY SEGs): the installed RLE decoders refuse 1-bit
  frames; `medsee_cli.writers.rle` decodes them.

Encapsulated 1-bit frames each start on a byte boundary, native ones do not (a 510x510 frame
is 32512.5 bytes): frames are unpacked to bits, joined and packed again.
"""

from __future__ import annotations

import io
import os
import zlib
from typing import Callable

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from medsee_cli.writers.rle import decode_segments

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
DEFLATED_IMAGE_FRAME = "1.2.840.10008.1.2.8.1"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
SWAPPED_VRS = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


class SegEncodingError(ValueError):
    """A SEG whose encoding cannot be turned into a native little-endian dataset."""


def read_seg_dataset(path: str | os.PathLike[str]) -> Dataset:
    """The SEG at ``path`` as a dataset highdicom accepts (re-encoded in memory if needed)."""
    ds = pydicom.dcmread(str(path))
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if syntax == EXPLICIT_VR_BIG_ENDIAN:
        _swap_binary_values(ds)
        return _reencoded(ds)
    if syntax == DEFLATED_IMAGE_FRAME:
        return _with_native_pixels(ds, _inflate)
    if syntax == RLE_LOSSLESS and int(ds.get("BitsAllocated", 0)) == 1:
        return _with_native_pixels(ds, _unrle_1bit)
    return ds


def _swap_binary_values(ds: Dataset) -> None:
    """Big-endian OW/OF/OL/OD/OV values (bytes as stored) swapped to little endian, in place."""
    for elem in ds.iterall():
        width = SWAPPED_VRS.get(elem.VR)
        if width and isinstance(elem.value, bytes) and len(elem.value) % width == 0:
            elem.value = np.frombuffer(elem.value, dtype=f">u{width}").astype(f"<u{width}").tobytes()


def _reencoded(ds: Dataset) -> Dataset:
    """``ds`` written as Explicit VR Little Endian and parsed again: a clean little-endian dataset."""
    ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(EXPLICIT_VR_LITTLE_ENDIAN)
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=True)
    buffer.seek(0)
    return pydicom.dcmread(buffer)


def _frame_bytes(ds: Dataset) -> int:
    """Bytes of one frame as encapsulated syntaxes store it (1-bit frames rounded up to a byte)."""
    pixels = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
    bits = int(ds.BitsAllocated)
    return (pixels + 7) // 8 if bits == 1 else pixels * bits // 8


def _inflate(frame: bytes, expected: int) -> bytes:
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(frame)


def _unrle_1bit(frame: bytes, expected: int) -> bytes:
    segments = decode_segments(frame, expected)
    if len(segments) != 1:
        raise SegEncodingError(f"a 1-bit RLE frame has {len(segments)} segments, 1 expected")
    return segments[0]


def _with_native_pixels(ds: Dataset, decode: Callable[[bytes, int], bytes]) -> Dataset:
    """``ds`` with its encapsulated frames decoded by ``decode`` into native pixel data."""
    from pydicom.encaps import generate_frames

    n_frames = int(ds.get("NumberOfFrames", 1))
    expected = _frame_bytes(ds)
    offsets = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        offsets = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    frames = []
    for number, encoded in enumerate(generate_frames(ds.PixelData, number_of_frames=n_frames,
                                                     extended_offsets=offsets), start=1):
        try:
            frame = decode(encoded, expected)
        except (zlib.error, ValueError) as exc:
            raise SegEncodingError(f"frame {number} cannot be decoded ({exc})") from exc
        if len(frame) < expected:
            raise SegEncodingError(f"frame {number} decodes to {len(frame)} bytes, {expected} expected")
        frames.append(frame[:expected])
    if len(frames) != n_frames:
        raise SegEncodingError(f"{len(frames)} frames found, NumberOfFrames says {n_frames}")
    data = _join_frames(frames, ds)
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = data + b"\0" * (len(data) % 2)
    elem = ds["PixelData"]
    elem.VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    elem.is_undefined_length = False
    return _reencoded(ds)


def _join_frames(frames: list[bytes], ds: Dataset) -> bytes:
    """Native pixel data from per-frame bytes; 1-bit frames are joined bit by bit."""
    if int(ds.BitsAllocated) != 1:
        return b"".join(frames)
    pixels = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
    if pixels % 8 == 0:
        return b"".join(frames)
    bits = np.concatenate([np.unpackbits(np.frombuffer(f, np.uint8), count=pixels, bitorder="little")
                           for f in frames])
    return np.packbits(bits, bitorder="little").tobytes()
