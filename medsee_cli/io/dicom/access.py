"""Where a DICOM file lives: a plain path, or a member of a zip archive (``archive.zip!/name``).

Zip members are read as streams, never whole just to look at them, and only within a stated
limit (`MemberLimits`), so a small archive cannot make medsee decompress gigabytes.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pydicom
from pydicom.dataset import Dataset

from medsee_cli.errors import InputError
from medsee_cli.io.dicom.quiet import quiet_pydicom

quiet_pydicom()

ZIP_SEPARATOR = "!/"
SNIFF_BYTES = 132  # 128-byte preamble + "DICM"
# first element groups a DICOM stream without a preamble starts with (meta, identification, ...)
LEADING_GROUPS = frozenset({0x0002, 0x0004, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028})


@dataclass(frozen=True)
class MemberLimits:
    """What one zip member may expand to: at most ``max_bytes``, and a member larger than
    ``ratio_floor_bytes`` at most ``max_ratio`` times its compressed size (zip bombs are both)."""

    max_bytes: int = 2 * 1024**3
    max_ratio: int = 200
    ratio_floor_bytes: int = 64 * 1024**2

    def check(self, info: zipfile.ZipInfo, where: str) -> None:
        size = info.file_size
        if size > self.max_bytes:
            raise InputError(where, f"zip member expands to {size} bytes, over the {self.max_bytes}-byte limit")
        ratio = size / max(1, info.compress_size)
        if size > self.ratio_floor_bytes and ratio > self.max_ratio:
            raise InputError(
                where,
                f"zip member expands {ratio:.0f}x ({info.compress_size} -> {size} bytes), over the "
                f"{self.max_ratio}x limit for members above {self.ratio_floor_bytes} bytes",
            )


MEMBER_LIMITS = MemberLimits()


def is_zip_file(path: str) -> bool:
    try:
        return os.path.isfile(path) and zipfile.is_zipfile(path)
    except OSError:
        return False


@dataclass(frozen=True)
class Location:
    path: str
    member: str | None = None

    def __str__(self) -> str:
        return f"{self.path}{ZIP_SEPARATOR}{self.member}" if self.member else self.path

    @classmethod
    def parse(cls, text: str) -> "Location":
        """``archive.zip!/name`` names a member only where the part before ``!/`` is a zip file;
        a folder called ``Export!`` stays part of a plain path."""
        start = 0
        while (index := text.find(ZIP_SEPARATOR, start)) >= 0:
            if is_zip_file(text[:index]):
                return cls(text[:index], text[index + len(ZIP_SEPARATOR):])
            start = index + 1
        return cls(text)

    @contextlib.contextmanager
    def open(self, limits: MemberLimits = MEMBER_LIMITS) -> Iterator[IO[bytes]]:
        """A binary stream of the file or member (a member within ``limits``)."""
        if self.member is None:
            with open(self.path, "rb") as fh:
                yield fh
            return
        with zipfile.ZipFile(self.path) as zf:
            info = zf.getinfo(self.member)
            limits.check(info, str(self))
            with zf.open(info) as fh:
                yield fh

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def stat_key(self, fh: IO[bytes] | None = None) -> tuple[int, int]:
        """(size, mtime_ns) of the file on disk (the archive for zip members): what says it is
        unchanged. ``fh``: this file, opened; its own handle is looked at (the very file being
        read, whatever the name points to by now)."""
        st = os.fstat(fh.fileno()) if fh is not None and self.member is None else os.stat(self.path)
        return (st.st_size, st.st_mtime_ns)


def looks_like_dicom(head: bytes) -> bool:
    """True for a Part 10 file (``DICM`` after the preamble) or a stream that starts with a
    plausible DICOM element (files without preamble or file meta)."""
    if head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    little, big = int.from_bytes(head[0:2], "little"), int.from_bytes(head[0:2], "big")
    return little in LEADING_GROUPS or big in LEADING_GROUPS


def read_dataset(location: Location | str, *, stop_before_pixels: bool = False) -> Dataset:
    """Read a DICOM dataset from a path or zip member (files without a preamble included)."""
    loc = Location.parse(location) if isinstance(location, str) else location
    if loc.member is None:
        return pydicom.dcmread(loc.path, stop_before_pixels=stop_before_pixels, force=True)
    with loc.open() as fh:
        return pydicom.dcmread(fh, stop_before_pixels=stop_before_pixels, force=True)
