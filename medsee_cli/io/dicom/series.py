"""From a bag of `FrameHeader`s to consistent series: split, order, and describe each one.

A "series" on disk is often several image stacks (a 3-plane localizer, magnitude and phase,
two echoes). Frames are split on everything that must be equal inside one volume: series UID,
matrix size, orientation, pixel spacing, echo, image type, stack; each part becomes one
`SeriesPlan`. Frames sharing a position become volumes of a 4D series when every position
holds the same number of them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from medsee_cli.errors import GeometryError, InputError
from medsee_cli.io.dicom.geometry import normal_of, pixel_only_affine, stack_geometry
from medsee_cli.io.dicom.header import FrameHeader

POSITION_TOLERANCE_MM = 0.01


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


def split_key(h: FrameHeader) -> tuple[object, ...]:
    return (
        h.series_instance_uid,
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
    for part, members in groups.items():
        key = series_key(members[0], part)
        try:
            plans.append(plan_series(key, members))
        except InputError as exc:
            failures.append(exc)
    plans.sort(key=lambda p: (p.first.study_instance_uid, p.first.series_number or 0, p.key))
    return Assembly(tuple(plans), tuple(failures))


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


def _dedupe(members: list[FrameHeader]) -> tuple[list[FrameHeader], int]:
    seen: set[tuple[str, int | None]] = set()
    unique = []
    for h in sorted(members, key=lambda m: m.location):
        ident = (h.sop_instance_uid, h.frame_number)
        if h.sop_instance_uid and ident in seen:
            continue
        seen.add(ident)
        unique.append(h)
    return unique, len(members) - len(unique)


def plan_series(key: str, members: list[FrameHeader]) -> SeriesPlan:
    members, duplicates = _dedupe(members)
    first = members[0]
    label = f"series {first.series_number if first.series_number is not None else '?'} ({first.modality}, {key})"
    notes = [f"{duplicates} duplicate file(s) of the same instance ignored"] if duplicates else []
    if first.is_mosaic:
        ordered = sorted(members, key=_order_key)
        return SeriesPlan(key, tuple(ordered), nk=0, nt=len(ordered), affine_lps=np.eye(4), notes=("mosaic",))
    if first.orientation is None or any(m.position is None for m in members):
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
        raise GeometryError(
            label,
            f"positions hold different numbers of images ({low} to {high}): "
            "missing images in a multi-volume series",
        )
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
