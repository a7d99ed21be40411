"""Find candidate files under the sources a user names: folders (recursively), zips, files.

PACS exports mix DICOM with extension-less names, DICOMDIRs, text and images; this module only
lists candidates, and `read_frame_headers` decides what each one is. A folder that cannot be
listed is an error naming it; medsee's own output folders (an ingest ``--out`` inside the
source, or any folder holding an ingest catalog) are skipped, never ingested again.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from medsee_cli.errors import InputError, UnsupportedInput
from medsee_cli.io.dicom.access import Location, is_zip_file
from medsee_cli.io.dicom.header import NOT_DICOM, FrameHeader, read_frame_headers
from medsee_cli.io.dicom.source_header import SourceHeader
from medsee_cli.io.itk import is_itk
from medsee_cli.io.nifti import is_nifti

NOT_DICOM_SUFFIXES = (
    ".txt", ".md", ".json", ".csv", ".xml", ".html", ".htm", ".pdf", ".jpg", ".jpeg", ".png",
    ".bmp", ".gif", ".bval", ".bvec", ".py", ".sh", ".log", ".yaml", ".yml", ".gz", ".zip",
    ".raw", ".tsv", ".ini", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".lock",
)
IMAGE_SUFFIXES_IN_ZIP = (".nii", ".nii.gz", ".nrrd", ".mha")  # one-file formats, read from a member
DETACHED_SUFFIXES = (".nhdr", ".mhd")  # header + separate data file
MEDSEE_CATALOG = "catalog.sqlite"
MEDSEE_SIDECAR_SCHEMA = "medsee.series/"
SQLITE_MAGIC = b"SQLite format 3\x00"
OUTPUT_FOLDER_REASON = "a medsee ingest output folder, not a source (skipped)"


@dataclass(frozen=True)
class Candidates:
    dicom: tuple[Location, ...]
    images: tuple[Location, ...]  # NIfTI / NRRD / MetaImage files and zip members
    skipped: tuple[tuple[str, str], ...]  # (item, reason) for files that are not images


@dataclass(frozen=True)
class Walk:
    files: tuple[Path, ...]
    errors: tuple[InputError, ...]  # folders that could not be listed
    outputs: tuple[Path, ...]  # medsee output folders left out


def is_medsee_output(folder: str | os.PathLike[str]) -> bool:
    """A folder written by `medsee ingest`: an SQLite ``catalog.sqlite`` beside ``series/``."""
    folder = Path(folder)
    try:
        with open(folder / MEDSEE_CATALOG, "rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
        return magic == SQLITE_MAGIC and (folder / "series").is_dir()
    except OSError:
        return False


def is_medsee_series(path: Path) -> bool:
    """A NIfTI that medsee ingest wrote: its JSON sidecar carries the ``medsee.series/`` schema."""
    name = path.name
    stem = name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else path.stem
    sidecar = path.with_name(stem + ".json")
    try:
        with open(sidecar, "rb") as fh:
            meta = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and str(meta.get("schema", "")).startswith(MEDSEE_SIDECAR_SCHEMA)


def walk(root: Path, exclude: tuple[Path, ...] = ()) -> Walk:
    """Every non-hidden file under ``root`` (sorted), with the folders that failed to list."""
    errors: list[InputError] = []
    outputs: list[Path] = []
    excluded = {_identity(p) for p in exclude} - {None}

    def failed(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else root
        errors.append(InputError(os.fspath(where), f"folder cannot be read ({exc.strerror or exc})"))

    files: list[Path] = []
    for folder, dirs, names in os.walk(root, onerror=failed):
        keep = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            sub = Path(folder) / d
            if _identity(sub) in excluded or is_medsee_output(sub):
                outputs.append(sub)
            else:
                keep.append(d)
        dirs[:] = keep
        files.extend(Path(folder) / n for n in sorted(names) if not n.startswith("."))
    return Walk(tuple(files), tuple(errors), tuple(outputs))


def iter_files(root: Path) -> Iterator[Path]:
    yield from walk(root).files


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def find_candidates(sources: list[Path], *, exclude: tuple[Path, ...] = ()) -> tuple[Candidates, list[InputError]]:
    """Candidates from every source; unreadable sources become errors, the rest go on.

    Folders in ``exclude`` (the output folder) and medsee output folders are not walked.
    """
    found = _Found()
    errors: list[InputError] = []
    excluded = {_identity(p) for p in exclude} - {None}
    for source in sources:
        if not os.path.lexists(source):
            errors.append(InputError(str(source), "no such file or folder"))
        elif source.is_dir():
            if _identity(source) in excluded or is_medsee_output(source):
                found.skipped.append((str(source), OUTPUT_FOLDER_REASON))
                continue
            listing = walk(source, exclude)
            errors.extend(listing.errors)
            found.skipped.extend((str(p), OUTPUT_FOLDER_REASON) for p in listing.outputs)
            if not listing.files and not listing.errors and not listing.outputs:
                errors.append(InputError(str(source), "empty folder: no files to ingest"))
            for path in listing.files:
                _classify(path, found, errors, explicit=False)
        elif source.is_file():
            if not os.access(source, os.R_OK):
                errors.append(InputError(str(source), "permission denied"))
            elif is_zip_file(str(source)):
                _add_zip(source, found, errors)
            else:
                _classify(source, found, errors, explicit=True)
        elif source.is_symlink():
            errors.append(InputError(str(source), "broken symbolic link"))
        else:
            errors.append(InputError(str(source), "not a regular file or folder"))
    return Candidates(tuple(found.dicom), tuple(found.images), tuple(found.skipped)), errors


class _Found:
    """What the walk found so far."""

    def __init__(self) -> None:
        self.dicom: list[Location] = []
        self.images: list[Location] = []
        self.skipped: list[tuple[str, str]] = []


def _classify(path: Path, found: _Found, errors: list[InputError], *, explicit: bool) -> None:
    lower = path.name.lower()
    if is_nifti(path) or is_itk(path):
        if not explicit and is_medsee_series(path):
            found.skipped.append((str(path), "written by medsee ingest, not a source (skipped)"))
        else:
            found.images.append(Location(str(path)))
    elif lower.endswith(".zip") and is_zip_file(str(path)):
        _add_zip(path, found, errors)
    elif lower.endswith(NOT_DICOM_SUFFIXES) and not explicit:
        found.skipped.append((str(path), "not a DICOM or image file"))
    else:
        found.dicom.append(Location(str(path)))


def _add_zip(path: Path, found: _Found, errors: list[InputError]) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        errors.append(InputError(str(path), f"unreadable zip file ({exc})"))
        return
    for name in names:
        lower = name.lower()
        member = Location(str(path), name)
        if Path(name).name.startswith("."):
            continue
        if lower.endswith(IMAGE_SUFFIXES_IN_ZIP):
            found.images.append(member)
        elif lower.endswith(DETACHED_SUFFIXES):
            found.skipped.append((str(member), "a header with a separate data file cannot be read from "
                                               "inside a zip (extract the archive first)"))
        elif not lower.endswith(NOT_DICOM_SUFFIXES):
            found.dicom.append(member)
        else:
            found.skipped.append((str(member), "not a DICOM or image file"))


@dataclass(frozen=True)
class HeaderScan:
    headers: tuple[FrameHeader, ...]
    skipped: tuple[tuple[str, str], ...]
    failures: tuple[InputError, ...]
    kept: Mapping[str, SourceHeader] = field(default_factory=dict)  # location -> header (``keep=True``)


def scan_headers(
    locations: tuple[Location, ...],
    *,
    explicit: frozenset[str] = frozenset(),
    workers: int = 4,
    cache: "HeaderCache | None" = None,
    keep: bool = False,
) -> HeaderScan:
    """Read every candidate's frame headers (in parallel, reusing ``cache`` where unchanged).

    Files that are not DICOM or not images are `skipped` when found by walking a folder, and
    `failures` when the user named them explicitly; damaged DICOM files are always failures.
    The cache also remembers skipped files, so a re-run does not read them again. ``keep``: the
    parsed header of every file read is `kept` (by location), so that decoding its pixels and
    writing DICOM objects that reference it need not parse it again (files found in ``cache``
    were not read, and have none).
    """

    def one(loc: Location) -> tuple[Location, list[FrameHeader] | InputError, SourceHeader | None]:
        if cache is not None:
            cached = cache.get(loc)
            if cached is not None:
                return loc, cached, None
            why = cache.get_skip(loc)
            if why is not None:
                return loc, UnsupportedInput(str(loc), why), None
        try:
            found, header = read_frame_headers(loc)  # non-image SOP classes are refused there (sop_classes.py)
        except InputError as exc:
            if cache is not None and _is_skip(exc):
                cache.put_skip(loc, exc.reason)
            return loc, exc, None
        if cache is not None:
            cache.put(loc, found)
        return loc, found, header if keep else None

    headers: list[FrameHeader] = []
    skipped: list[tuple[str, str]] = []
    failures: list[InputError] = []
    kept: dict[str, SourceHeader] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for loc, result, header in pool.map(one, locations):
            if isinstance(result, list):
                headers.extend(result)
                if header is not None:
                    kept[str(loc)] = header
            elif _is_skip(result) and str(loc) not in explicit:
                skipped.append((result.item, result.reason))
            else:
                failures.append(result)
    return HeaderScan(tuple(headers), tuple(skipped), tuple(failures), kept)


def _is_skip(error: InputError) -> bool:
    return isinstance(error, UnsupportedInput) or error.reason == NOT_DICOM or (
        error.reason.startswith("not a readable DICOM file") and "preamble" in error.reason.lower()
    )


class HeaderCache:
    """Interface of a per-file cache keyed by (location, size, mtime): frame headers, and the
    reason a file was skipped."""

    def get(self, location: Location) -> list[FrameHeader] | None:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, location: Location, headers: list[FrameHeader]) -> None:  # pragma: no cover
        raise NotImplementedError

    def get_skip(self, location: Location) -> str | None:  # pragma: no cover - interface
        return None

    def put_skip(self, location: Location, reason: str) -> None:  # pragma: no cover - interface
        return None


def printable(text: str) -> str:
    """A name safe to print and to store as UTF-8: bytes of a file name that are not valid UTF-8
    (kept by Python as surrogate escapes) become backslash escapes such as ``\\xff``."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")
