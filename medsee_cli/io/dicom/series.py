"""From a bag of `FrameHeader`s to consistent series: split, order, and describe each one.

A "series" on disk is often several image stacks (a 3-plane localizer, magnitude and phase,
two echoes). Frames are split on everything that must be equal inside one volume: series UID,
matrix size, orientation, pixel spacing, echo, image type, stack; each part becomes one
`SeriesPlan`. Frames sharing a position become volumes of a 4D series when every position
holds the same number of them.

Quirks of real exports, decided as dcm2niix decides them (see tests/quirks/corpus.py):
- No SeriesInstanceUID: files are grouped by folder (plus everything else in the split key)
  and the series says so in a note; its volume has an empty series UID, so no DICOM object
  that must reference the series can be made from it.
- One image of a series without ImageOrientationPatient or ImagePositionPatient, or with
  another matrix size, pixel spacing or bit depth than the rest: dcm2niix refuses to stack
  such slices ("slices not stacked"), and neither orientation nor position can be honestly
  derived from the neighbours, so the whole series fails with one line naming that image.
- Images of one series that state different FrameOfReferenceUIDs (or StudyInstanceUIDs), as
  anonymisers that renew UIDs file by file leave them: the volume is read and carries no such
  UID (a note says why), so nothing claims a frame of reference the source does not state.
- The same file exported twice (identical headers): one copy is used, with a note. Two
  different images that share a SOP Instance UID are both kept (the pixels are fine); the
  note says so, since such UIDs cannot be referenced unambiguously.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from medsee_cli.errors import GeometryError, InputError
from medsee_cli.io.dicom.geometry import normal_of, pixel_only_affine, stack_geometry
from medsee_cli.io.dicom.access import Location
from medsee_cli.io.dicom.header import SERIES_ERROR, FrameHeader

POSITION_TOLERANCE_MM = 0.01
NO_SERIES_UID_NOTE = "no SeriesInstanceUID: images grouped by folder and series number"
ODD_ONE_OUT_MAX = 2  # at most this many images differing from a series count as strays inside it
SPLIT_FIELDS = (  # what `split_key` holds, in order
    "series", "sop_class_uid", "rows", "columns", "samples_per_pixel", "bits_allocated", "pixel_representation",
    "series_number", "orientation", "pixel_spacing", "echo_number", "image_type", "stack_id", "is_mosaic",
)
ORIENTATION_INDEX = SPLIT_FIELDS.index("orientation")


@dataclass(frozen=True)
class SeriesPlan:
    """One volume to decode: frames ordered ``k + t * nk`` and the LPS affine."""

    key: str
    frames: tuple[FrameHeader, ...]
    nk: int
    nt: int
    affine_lps: np.ndarray
    notes: tuple[str, ...] = field(default=())

    @property
    def first(self) -> FrameHeader:
        return self.frames[0]

    @property
    def shape(self) -> tuple[int, ...]:
        f = self.first
        base = (f.columns, f.rows, self.nk)
        return base + ((self.nt,) if self.nt > 1 else ())

    @property
    def label(self) -> str:
        """A short, non-identifying name for messages: modality, series number, key."""
        f = self.first
        number = f.series_number if f.series_number is not None else "?"
        return f"series {number} ({f.modality}, {self.key})"


@dataclass(frozen=True)
class Assembly:
    plans: tuple[SeriesPlan, ...]
    failures: tuple[InputError, ...]


def _round(values: tuple[float, ...] | None, digits: int) -> tuple[float, ...] | None:
    return None if values is None else tuple(round(v, digits) + 0.0 for v in values)


def _folder(location: str) -> str:
    loc = Location.parse(location)
    if loc.member is not None:
        return f"{loc.path}!/{Path(loc.member).parent}"
    return str(Path(loc.path).parent)


def split_key(h: FrameHeader) -> tuple[object, ...]:
    return (
        h.series_instance_uid or ("", _folder(h.location)),
        h.sop_class_uid,
        h.rows,
        h.columns,
        h.samples_per_pixel,
        h.bits_allocated,
        h.pixel_representation,
        h.series_number,
        _round(h.orientation, 3),
        _round(h.pixel_spacing, 4),
        h.echo_number,
        h.image_type,
        h.stack_id,
        h.is_mosaic,
    )


def series_key(h: FrameHeader, part: tuple[object, ...]) -> str:
    digest = hashlib.sha1(repr((h.series_instance_uid, part)).encode()).hexdigest()[:10]
    number = h.series_number if h.series_number is not None else 0
    return f"{h.modality.lower()}_{number:04d}_{digest}"


def assemble(headers: list[FrameHeader]) -> Assembly:
    """Split headers into series plans; a broken series becomes a failure, the rest go on."""
    groups: dict[tuple[object, ...], list[FrameHeader]] = defaultdict(list)
    for h in headers:
        groups[split_key(h)].append(h)
    plans: list[SeriesPlan] = []
    failures: list[InputError] = []
    for stray_part, main_part, error in _strays(groups):
        failures.append(error)
        groups.pop(stray_part, None)
        groups.pop(main_part, None)
    for part, members in groups.items():
        key = series_key(members[0], part)
        try:
            plans.append(plan_series(key, members))
        except InputError as exc:
            failures.append(exc)
    plans.sort(key=lambda p: (p.first.study_instance_uid, p.first.series_number or 0, p.key))
    return Assembly(tuple(plans), tuple(failures))


def _label(h: FrameHeader, key: str) -> str:
    return f"series {h.series_number if h.series_number is not None else '?'} ({h.modality}, {key})"


DIFFERENCES = tuple(  # (index in split_key, the attribute) of what may differ in a stray image
    (SPLIT_FIELDS.index(name), keyword)
    for name, keyword in (
        ("rows", "Rows"), ("columns", "Columns"), ("samples_per_pixel", "SamplesPerPixel"),
        ("bits_allocated", "BitsAllocated"), ("pixel_representation", "PixelRepresentation"),
        ("pixel_spacing", "PixelSpacing"), ("orientation", "ImageOrientationPatient"),
    )
)


def _strays(
    groups: dict[tuple[object, ...], list[FrameHeader]],
) -> list[tuple[tuple[object, ...], tuple[object, ...], InputError]]:
    """Images that belong to a series but differ from it in a way no volume can hold.

    A stray is a group of at most `ODD_ONE_OUT_MAX` images whose split key differs from a
    larger group (with full geometry) of the same series in matrix, bit depth, spacing or orientation only, and that
    sits inside that group: either it has no orientation at all, or it shares the group's
    orientation and its positions lie within the group's range along the slice normal. A
    localizer view, a second stack elsewhere or a reformat with its own orientation is not a stray.
    """
    found: list[tuple[tuple[object, ...], tuple[object, ...], InputError]] = []
    compare = {index for index, _ in DIFFERENCES}
    for part, members in groups.items():
        if len(members) > ODD_ONE_OUT_MAX or members[0].is_mosaic:
            continue
        for other_part, others in groups.items():
            if other_part == part or len(others) <= len(members):
                continue
            if any(a != b for i, (a, b) in enumerate(zip(part, other_part)) if i not in compare):
                continue
            main = others[0]
            if main.orientation is None or any(o.position is None for o in others):
                continue
            stray = members[0]
            if stray.orientation is not None and part[ORIENTATION_INDEX] != other_part[ORIENTATION_INDEX]:
                continue  # its own plane (a localizer view, a reformat): a series of its own
            inside = stray.orientation is None or stray.position is None or \
                _within(members, others, normal_of(main.orientation))
            if not inside:
                continue
            what = [name for index, name in DIFFERENCES if part[index] != other_part[index]]
            key = series_key(main, other_part)
            if stray.orientation is None:
                message = (
                    f"no ImageOrientationPatient while the other {len(others)} images of {_label(main, key)} "
                    "have one: the series cannot be placed"
                )
            else:
                message = (
                    f"{' / '.join(what)} {_describe(stray, what)} differs from the other {len(others)} images of "
                    f"{_label(main, key)} ({_describe(main, what)}): the series cannot be stacked into one volume"
                )
            found.append((part, other_part, GeometryError(stray.location, message)))
            break
    return found


def _describe(h: FrameHeader, what: list[str]) -> str:
    values = {
        "Rows": h.rows, "Columns": h.columns, "SamplesPerPixel": h.samples_per_pixel,
        "BitsAllocated": h.bits_allocated, "PixelRepresentation": h.pixel_representation,
        "PixelSpacing": h.pixel_spacing, "ImageOrientationPatient": h.orientation,
    }
    return ", ".join(str(values[name]) for name in what)


def _within(members: list[FrameHeader], others: list[FrameHeader], normal: np.ndarray) -> bool:
    along = [float(np.dot(np.asarray(o.position), normal)) for o in others]
    low, high = min(along), max(along)
    return all(
        m.position is not None and low - POSITION_TOLERANCE_MM <= float(np.dot(np.asarray(m.position), normal))
        <= high + POSITION_TOLERANCE_MM
        for m in members
    )


def _order_key(h: FrameHeader) -> tuple[object, ...]:
    return (
        h.temporal_index if h.temporal_index is not None else -1,
        h.acquisition_number if h.acquisition_number is not None else -1,
        h.trigger_time if h.trigger_time is not None else -1.0,
        h.acquisition_time,
        h.instance_number if h.instance_number is not None else -1,
        h.frame_number or 0,
        h.location,
    )


def _as_copy(h: FrameHeader) -> FrameHeader:
    """What two copies of one instance share: all but the file name and the encoding (a
    compressed copy may state another PhotometricInterpretation or BitsStored)."""
    return replace(h, location="", transfer_syntax_uid="", photometric="", bits_stored=0, quirks=())


def _dedupe(members: list[FrameHeader]) -> tuple[list[FrameHeader], int, int]:
    """(members without exact copies, copies dropped, images sharing a UID with another image).

    A copy has the same SOP Instance UID, frame and header (all but its file name and transfer
    syntax: the same instance exported twice, or once compressed and once not); an image
    with the same UID but another position or header is a different image and is kept.
    """
    seen: dict[tuple[str, int | None], list[FrameHeader]] = {}
    unique = []
    copies = shared = 0
    for h in sorted(members, key=lambda m: m.location):
        ident = (h.sop_instance_uid, h.frame_number)
        if h.sop_instance_uid and ident in seen:
            anonymous = _as_copy(h)
            if any(_as_copy(o) == anonymous for o in seen[ident]):
                copies += 1
                continue
            shared += 1
        seen.setdefault(ident, []).append(h)
        unique.append(h)
    return unique, copies, shared


def _notes(members: list[FrameHeader], duplicates: int, shared: int) -> list[str]:
    notes = [f"{duplicates} duplicate file(s) of the same instance ignored"] if duplicates else []
    if shared:
        notes.append(f"{shared + 1} different images share a SOP Instance UID (the UIDs are not unique)")
    if not members[0].series_instance_uid:
        notes.append(NO_SERIES_UID_NOTE)
    for attribute, keyword in (("frame_of_reference_uid", "FrameOfReferenceUID"), ("study_instance_uid", "StudyInstanceUID")):
        distinct = {getattr(m, attribute) or "" for m in members}
        if len(distinct) > 1:
            notes.append(f"the images do not agree on one {keyword} ({len(distinct)} values): the volume has none")
    without_uid = sum(1 for m in members if not m.sop_instance_uid)
    if without_uid:
        notes.append(f"{without_uid} image(s) have no SOPInstanceUID")
    for quirk in dict.fromkeys(q for m in members for q in m.quirks if not q.startswith(SERIES_ERROR)):
        notes.append(quirk)
    return notes


def shared_uid(frames: tuple[FrameHeader, ...], attribute: str) -> str:
    """The UID every frame states, or "" when they disagree or none states one (never a guess)."""
    values = {getattr(f, attribute) or "" for f in frames}
    return values.pop() if len(values) == 1 else ""


def plan_series(key: str, members: list[FrameHeader]) -> SeriesPlan:
    members, duplicates, shared = _dedupe(members)
    first = members[0]
    label = _label(first, key)
    broken = [(m, q) for m in members for q in m.quirks if q.startswith(SERIES_ERROR)]
    if broken:
        where, what = broken[0]
        raise InputError(where.location, f"{what[len(SERIES_ERROR):]} ({len(broken)} of {len(members)} images of {label})")
    notes = _notes(members, duplicates, shared)
    if first.is_mosaic:
        ordered = sorted(members, key=_order_key)
        return SeriesPlan(key, tuple(ordered), nk=0, nt=len(ordered), affine_lps=np.eye(4), notes=("mosaic",))
    missing = [m for m in members if m.position is None]
    if first.orientation is not None and missing and len(missing) < len(members):
        raise GeometryError(
            missing[0].location,
            f"no ImagePositionPatient while the other {len(members) - len(missing)} images of {label} have one: "
            "the series cannot be placed",
        )
    if first.orientation is None or missing:
        ordered = sorted(members, key=_order_key)
        if len(ordered) > 1:
            notes.append("no patient geometry: frames stacked as volumes in time")
        else:
            notes.append("no patient geometry: pixel grid only")
        return SeriesPlan(
            key, tuple(ordered), nk=1, nt=len(ordered), affine_lps=pixel_only_affine(first.pixel_spacing),
            notes=tuple(notes),
        )
    if first.pixel_spacing is None:
        raise GeometryError(label, "PixelSpacing is missing")
    normal = normal_of(first.orientation)
    by_position: dict[int, list[FrameHeader]] = defaultdict(list)
    distance: dict[int, float] = {}
    for h in members:
        d = float(np.dot(np.asarray(h.position), normal))
        slot = int(round(d / POSITION_TOLERANCE_MM))
        match = next((s for s in (slot - 1, slot, slot + 1) if s in by_position), slot)
        by_position[match].append(h)
        distance.setdefault(match, d)
    slots = sorted(by_position, key=lambda s: distance[s])
    counts = {len(by_position[s]) for s in slots}
    if len(counts) != 1:
        low, high = min(counts), max(counts)
        crowded = sum(1 for s in slots if len(by_position[s]) == high)
        if low == 1 and high == 2 and crowded * 2 <= len(slots):  # a few slices sent twice (new UIDs)
            reason = (f"{crowded} of {len(slots)} positions hold 2 images with different SOP Instance UIDs: "
                      "duplicated slices (re-sent or re-exported), or missing images of a multi-volume series")
        else:
            reason = (f"positions hold different numbers of images ({low} to {high}): "
                      "missing images in a multi-volume series")
        raise GeometryError(label, reason)
    nt = counts.pop()
    nk = len(slots)
    stacks = [sorted(by_position[s], key=_order_key) for s in slots]
    ordered = [stacks[k][t] for t in range(nt) for k in range(nk)]
    positions = np.array([stacks[k][0].position for k in range(nk)], dtype=np.float64)
    geometry = stack_geometry(
        label,
        first.orientation,
        first.pixel_spacing,
        positions,
        first.spacing_between_slices or first.slice_thickness,
    )
    if geometry.tilt_degrees >= 0.1:
        notes.append(
            f"gantry tilt or oblique stack: slices are sheared by {geometry.tilt_degrees:.1f} degrees; "
            "the affine keeps the true positions (sform only, data not resampled)"
        )
    return SeriesPlan(key, tuple(ordered), nk=nk, nt=nt, affine_lps=geometry.affine_lps, notes=tuple(notes))
