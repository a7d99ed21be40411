"""One parse per DICOM file: the header the header scan keeps for the steps after it.

The header scan opens each candidate once: it sniffs the first bytes, parses the dataset up to
the pixel data and keeps it as a `SourceHeader`, with the file's size and modification time taken
before it was read and the offset where its pixel data start. The steps after it do not parse
the file again:

- the pixel decoder reads only the bytes from the pixel data on (`SourceHeader.with_pixels`);
- the DICOM writers (SEG, RTSTRUCT) copy the kept header (`SourceHeader.dataset`); whether the
  file is still the one that was read is told by its size and mtime (`SourceHeader.changed`,
  the rule ingest uses for "unchanged"), without reading it again.

What is kept is the parsed elements as pydicom leaves them until a value is used (raw bytes per
element, immutable), without private elements (no derived object copies them, and they are most
of a vendor's header). Each `dataset()` is a new dataset over those elements, so one writer's
in-memory repairs never reach another's.
"""

from __future__ import annotations

import copy
import zipfile
from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import IO

import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset as read_elements
from pydicom.tag import BaseTag

from medsee_cli.errors import InputError
from medsee_cli.io.dicom.access import SNIFF_BYTES, Location, looks_like_dicom

# Pixel Data, Float Pixel Data, Double Float Pixel Data: where pydicom's stop_before_pixels stops
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
CHANGED = "changed while it was being read (its size or modification time differ)"


@dataclass(frozen=True, eq=False)
class SourceHeader:
    """A source file's header as the header scan parsed it (no pixel data, no private elements).

    ``stat``: (size, mtime_ns) of the file (of the archive, for a zip member) before it was read.
    ``pixel_offset``: where the pixel data element starts in the file; None for a zip member.
    """

    elements: dict[BaseTag, RawDataElement | DataElement]
    file_meta: FileMetaDataset | None
    encoding: tuple[bool, bool] | tuple[None, None]  # (implicit VR, little endian) of the dataset
    charset: str | MutableSequence[str]  # the character set the dataset was read with
    stat: tuple[int, int]
    pixel_offset: int | None

    def dataset(self) -> Dataset:
        """A new dataset of the kept elements: changing it changes nothing kept (raw elements
        are immutable and shared; an element pydicom already converted is copied)."""
        ds = Dataset({tag: elem if isinstance(elem, RawDataElement) else copy.deepcopy(elem)
                      for tag, elem in self.elements.items()})
        if self.file_meta is not None:
            ds.file_meta = copy.deepcopy(self.file_meta)
        ds.set_original_encoding(self.encoding[0], self.encoding[1], self.charset)
        return ds

    def changed(self, location: str) -> bool:
        """Whether the file at ``location`` is no longer the one read (its size or mtime differ).
        Raises `OSError` when it cannot be looked at (gone, no permission)."""
        return Location.parse(location).stat_key() != self.stat

    def with_pixels(self, location: str) -> Dataset | None:
        """The kept header plus the elements from the pixel data on, read from the file (the
        header is not parsed again); None where that cannot be done (a zip member, no pixel data
        where the scan saw them begin) and the caller reads the whole file. `InputError` when the
        file changed since its header was read; `OSError` and pydicom's errors when it does not read."""
        loc = Location.parse(location)
        implicit, little = self.encoding
        if self.pixel_offset is None or loc.member is not None or implicit is None or little is None:
            return None
        with open(loc.path, "rb") as fh:
            if loc.stat_key(fh) != self.stat:
                raise InputError(location, CHANGED)
            fh.seek(self.pixel_offset)
            start = fh.read(4)
            if len(start) < 4 or _tag(start, little) not in PIXEL_TAGS:
                return None  # e.g. a deflated dataset: the offset is not one in the file's own bytes
            fh.seek(self.pixel_offset)
            tail = read_elements(fh, implicit, little)
        ds = self.dataset()
        for tag, elem in tail.items():
            ds[tag] = elem
        return ds


def _tag(raw: bytes, little: bool) -> int:
    group, element = (int.from_bytes(raw[i:i + 2], "little" if little else "big") for i in (0, 2))
    return (group << 16) | element


def read_source_header(location: Location) -> tuple[Dataset, SourceHeader]:
    """Open ``location`` once: sniff it and parse it up to the pixel data. Returns the parsed
    dataset (for the frame headers) and what is kept of it. `InputError` naming the file when it
    cannot be read, is not DICOM, or does not parse."""
    name = str(location)
    try:
        with location.open() as fh:
            stat = location.stat_key(fh)
            head = fh.read(SNIFF_BYTES)
            if not looks_like_dicom(head):
                raise InputError(name, "not a DICOM file")
            fh.seek(0)
            ds = _parse(fh, name)
            offset = fh.tell() if location.member is None else None
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise InputError(name, f"cannot be read ({reason})") from exc
    # What is kept shares ds's elements and file meta: ds itself only serves the frame headers,
    # which read them; every `dataset()` copies what is not immutable.
    kept = SourceHeader(
        elements={tag: elem for tag, elem in ds.items() if not tag >> 16 & 1},  # odd groups are private
        file_meta=getattr(ds, "file_meta", None),
        encoding=ds.original_encoding,
        charset=ds.original_character_set,
        stat=stat,
        pixel_offset=offset,
    )
    return ds, kept


def _parse(fh: IO[bytes], name: str) -> Dataset:
    try:
        return pydicom.dcmread(fh, stop_before_pixels=True, force=True)
    except Exception as exc:  # pydicom raises a wide range on corrupt bytes
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise InputError(name, f"not a readable DICOM file ({text[:160]})") from exc
