"""Find candidate files under the sources a user names: folders (recursively), zips, files.

PACS exports mix DICOM with extension-less names, DICOMDIRs, text and images; this module only
lists candidates, and `read_frame_headers` decides what each one is.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from medsee_cli.errors import InputError, UnsupportedInput
from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.header import FrameHeader, read_frame_headers
from medsee_cli.io.itk import is_itk
from medsee_cli.io.nifti import is_nifti

NOT_DICOM_SUFFIXES = (
    ".txt", ".md", ".json", ".csv", ".xml", ".html", ".htm", ".pdf", ".jpg", ".jpeg", ".png",
    ".bmp", ".gif", ".bval", ".bvec", ".py", ".sh", ".log", ".yaml", ".yml", ".gz", ".zip",
    ".raw", ".tsv", ".ini",
)


@dataclass(frozen=True)
class Candidates:
    dicom: tuple[Location, ...]
    images: tuple[Path, ...]  # NIfTI / NRRD / MetaImage files
    skipped: tuple[tuple[str, str], ...]  # (item, reason) for files that are not images


def iter_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def find_candidates(sources: list[Path]) -> tuple[Candidates, list[InputError]]:
    """Candidates from every source; unreadable sources become errors, the rest go on."""
    dicom: list[Location] = []
    images: list[Path] = []
    skipped: list[tuple[str, str]] = []
    errors: list[InputError] = []
    for source in sources:
        if not source.exists():
            errors.append(InputError(str(source), "no such file or folder"))
            continue
        if source.is_dir():
            files = list(iter_files(source))
            if not files:
                errors.append(InputError(str(source), "empty folder: no files to ingest"))
            for path in files:
                _classify(path, dicom, images, skipped, explicit=False)
        elif source.is_file():
            if not os.access(source, os.R_OK):
                errors.append(InputError(str(source), "permission denied"))
                continue
            if zipfile.is_zipfile(source):
                try:
                    dicom.extend(_zip_members(source))
                except (zipfile.BadZipFile, OSError) as exc:
                    errors.append(InputError(str(source), f"unreadable zip file ({exc})"))
            else:
                _classify(source, dicom, images, skipped, explicit=True)
        else:
            errors.append(InputError(str(source), "not a regular file or folder"))
    return Candidates(tuple(dicom), tuple(images), tuple(skipped)), errors


def _classify(
    path: Path, dicom: list[Location], images: list[Path], skipped: list[tuple[str, str]], *, explicit: bool
) -> None:
    lower = path.name.lower()
    if is_nifti(path) or is_itk(path):
        images.append(path)
    elif lower.endswith(".zip") and zipfile.is_zipfile(path):
        dicom.extend(_zip_members(path))
    elif lower.endswith(NOT_DICOM_SUFFIXES) and not explicit:
        skipped.append((str(path), "not a DICOM or image file"))
    else:
        dicom.append(Location(str(path)))


def _zip_members(path: Path) -> list[Location]:
    with zipfile.ZipFile(path) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
    return [
        Location(str(path), name)
        for name in sorted(names)
        if not Path(name).name.startswith(".") and not name.lower().endswith(NOT_DICOM_SUFFIXES)
    ]


@dataclass(frozen=True)
class HeaderScan:
    headers: tuple[FrameHeader, ...]
    skipped: tuple[tuple[str, str], ...]
    failures: tuple[InputError, ...]


def scan_headers(
    locations: tuple[Location, ...],
    *,
    explicit: frozenset[str] = frozenset(),
    workers: int = 4,
    cache: "HeaderCache | None" = None,
) -> HeaderScan:
    """Read every candidate's frame headers (in parallel, reusing ``cache`` where unchanged).

    Files that are not DICOM or not images are `skipped` when found by walking a folder, and
    `failures` when the user named them explicitly; damaged DICOM files are always failures.
    """

    def one(loc: Location) -> tuple[Location, list[FrameHeader] | InputError]:
        if cache is not None:
            cached = cache.get(loc)
            if cached is not None:
                return loc, cached
        try:
            found = read_frame_headers(loc)
        except InputError as exc:
            return loc, exc
        if cache is not None:
            cache.put(loc, found)
        return loc, found

    headers: list[FrameHeader] = []
    skipped: list[tuple[str, str]] = []
    failures: list[InputError] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for loc, result in pool.map(one, locations):
            if isinstance(result, list):
                headers.extend(result)
            elif _is_skip(result) and str(loc) not in explicit:
                skipped.append((result.item, result.reason))
            else:
                failures.append(result)
    return HeaderScan(tuple(headers), tuple(skipped), tuple(failures))


def _is_skip(error: InputError) -> bool:
    return isinstance(error, UnsupportedInput) or error.reason == "not a DICOM file" or (
        error.reason.startswith("not a readable DICOM file") and "preamble" in error.reason.lower()
    )


class HeaderCache:
    """Interface of a per-file header cache keyed by (location, size, mtime)."""

    def get(self, location: Location) -> list[FrameHeader] | None:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, location: Location, headers: list[FrameHeader]) -> None:  # pragma: no cover
        raise NotImplementedError
