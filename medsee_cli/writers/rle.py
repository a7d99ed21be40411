"""DICOM RLE Lossless frames (PS3.5 Annex G), decoded to their byte segments.

pydicom and pylibjpeg-rle decode RLE for 8/16/32 bits allocated but refuse 1-bit frames, which
is exactly how RLE SEGs (BINARY) store their pixels: one segment holding the bit-packed frame.
An RLE frame is a 64-byte header (segment count, then up to 15 segment offsets, all uint32
little endian) followed by the segments; each segment is PackBits: a control byte ``n`` copies
the next ``n + 1`` bytes (``n`` in 0..127), repeats the next byte ``257 - n`` times (``n`` in
129..255), or does nothing (128).
"""

from __future__ import annotations

import struct

HEADER_BYTES = 64
MAX_SEGMENTS = 15


class RLEError(ValueError):
    """An RLE frame whose header or segments are inconsistent (the message says where)."""


def segment_offsets(frame: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` byte ranges of the segments of one RLE frame."""
    if len(frame) < HEADER_BYTES:
        raise RLEError(f"frame of {len(frame)} bytes is shorter than the 64-byte RLE header")
    header = struct.unpack("<16I", frame[:HEADER_BYTES])
    count = header[0]
    if not 1 <= count <= MAX_SEGMENTS:
        raise RLEError(f"RLE header announces {count} segments (1..15 allowed)")
    starts = list(header[1:count + 1])
    ends = starts[1:] + [len(frame)]
    for start, end in zip(starts, ends):
        if not HEADER_BYTES <= start <= end <= len(frame):
            raise RLEError(f"RLE segment offsets {starts} do not fit a frame of {len(frame)} bytes")
    return list(zip(starts, ends))


def unpack_segment(data: bytes, expected: int) -> bytes:
    """One PackBits segment decoded; at least ``expected`` bytes, trimmed to exactly that many.

    Encoders pad segments to an even length, so a few surplus bytes are ignored; too few is an
    error.
    """
    out = bytearray()
    pos, size = 0, len(data)
    while pos < size and len(out) < expected:
        control = data[pos]
        pos += 1
        if control < 128:  # literal run of control + 1 bytes
            run = data[pos:pos + control + 1]
            if len(run) != control + 1:
                raise RLEError("RLE literal run goes past the end of its segment")
            out += run
            pos += control + 1
        elif control > 128:  # replicate the next byte 257 - control times
            if pos >= size:
                raise RLEError("RLE replicate run goes past the end of its segment")
            out += bytes((data[pos],)) * (257 - control)
            pos += 1
    if len(out) < expected:
        raise RLEError(f"RLE segment decodes to {len(out)} bytes, {expected} expected")
    return bytes(out[:expected])


def decode_segments(frame: bytes, expected: int) -> list[bytes]:
    """Every segment of one RLE frame, each decoded to ``expected`` bytes."""
    return [unpack_segment(frame[start:end], expected) for start, end in segment_offsets(frame)]
