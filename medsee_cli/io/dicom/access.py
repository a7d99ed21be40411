"""Where a DICOM file lives: a plain path, or a member of a zip archive (``archive.zip!/name``)."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from medsee_cli.io.dicom.quiet import quiet_pydicom

quiet_pydicom()

ZIP_SEPARATOR = "!/"


@dataclass(frozen=True)
class Location:
    path: str
    member: str | None = None

    def __str__(self) -> str:
        return f"{self.path}{ZIP_SEPARATOR}{self.member}" if self.member else self.path

    @classmethod
    def parse(cls, text: str) -> "Location":
        if ZIP_SEPARATOR in text:
            path, member = text.split(ZIP_SEPARATOR, 1)
            return cls(path, member)
        return cls(text)

    def read_bytes(self) -> bytes:
        if self.member is None:
            with open(self.path, "rb") as fh:
                return fh.read()
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)

    def stat_key(self) -> tuple[int, int]:
        """(size, mtime_ns) of the file on disk (the archive for zip members)."""
        st = os.stat(self.path)
        return (st.st_size, st.st_mtime_ns)


def read_dataset(location: Location | str, *, stop_before_pixels: bool = False) -> Dataset:
    """Read a DICOM dataset from a path or zip member (files without a preamble included)."""
    loc = Location.parse(location) if isinstance(location, str) else location
    if loc.member is None:
        return pydicom.dcmread(loc.path, stop_before_pixels=stop_before_pixels, force=True)
    return pydicom.dcmread(io.BytesIO(loc.read_bytes()), stop_before_pixels=stop_before_pixels, force=True)
