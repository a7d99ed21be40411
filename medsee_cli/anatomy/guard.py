"""The anatomy guard: what of a target's raw region may stand, and what is doubtful about the rest.

Applied in this order to the region the model found for one target:
1. outside the trunk: voxels in an arm, on the table or outside the body are dropped (CT in HU,
   targets that lie in the trunk);
2. off level: voxels on axial slices showing a body region the target is not in, farther than a
   margin from any slice that does, are dropped (kidneys in the chest, liver in the pelvis);
3. wrong side: for a lateral target (the left kidney), pieces whose centre lies on the other side
   of the body's midline, or on it, are dropped;
4. one organ, one piece: a single organ keeps its largest piece and the pieces within ``near_mm``
   of it that hold at least ``min_share`` of its voxels (an organ's lobe or a stretch of it can
   part from the rest on thick slices, or where the model missed a few slices); a piece farther
   away is not that organ, and a sliver beside it is a fragment of the model's outline. A paired
   one (both kidneys) keeps the same on each side.
Each drop is reported (`Dropped`), never silent. `concerns` then says what is implausible in what
stands (a volume far outside the usual range, an unpaired organ on the unusual side): such a
finding is flagged in the answer, never reported as if nothing were wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

from medsee_cli.anatomy.placement import Placement
from medsee_cli.anatomy.scan_anatomy import ScanAnatomy
from medsee_cli.measure.region import CONNECTIVITY, RegionMask, crop

OUTSIDE_TRUNK = "outside the body's trunk"
OFF_LEVEL = "at a body level where it does not lie"
WRONG_SIDE = "on the wrong side of the body"
EXTRA_PIECE = "smaller separate pieces of an organ that is one piece"
BODY_ORDER = ("pelvis", "abdomen", "chest", "neck", "head")  # inferior to superior


@dataclass(frozen=True)
class GuardRules:
    margin_mm: float = 20.0  # how far beyond the slices of its regions a target may reach
    chest_margin_mm: float = 50.0  # ... across the chest/abdomen boundary (the diaphragm is a dome)
    midline_mm: float = 10.0  # a lateral target's piece must lie at least this far on its own side
    near_mm: float = 20.0  # a piece of a single organ this close to its largest piece may be the same organ
    # ... if it holds at least this share of the largest piece's voxels (a real liver tip parted from the rest
    # on 3 mm MR slices held 4.8%; the slivers beside a liver outlined on 1.1 mm CT slices held under 1%)
    min_share: float = 0.02


@dataclass(frozen=True)
class Dropped:
    reason: str
    voxels: int
    volume_ml: float

    def to_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "voxels": self.voxels, "volume_ml": round(self.volume_ml, 2)}


@dataclass(frozen=True)
class Guarded:
    region: Optional[RegionMask]
    dropped: tuple[Dropped, ...] = ()


def _voxels(region: RegionMask) -> np.ndarray:
    return np.asarray(np.argwhere(region.mask) + np.asarray(region.offset))


def _allowed_levels(placement: Placement, scan: ScanAnatomy, rules: GuardRules) -> Optional[np.ndarray]:
    """(Z,) bool over the axial slices where the target may lie; None when levels do not apply.

    A slice showing one of the target's regions, or no body, is allowed; so is a slice within
    ``margin_mm`` of one, or within ``chest_margin_mm`` when the two regions are chest and abdomen
    (the diaphragm is a dome: the lung bases reach far down behind the liver, the spleen and the
    stomach reach up under it, and the lung share that labels a slice changes gradually). Past
    each end of the scan the next region that way is assumed (`_beyond`)."""
    if not placement.regions or not scan.levels:
        return None
    reach = int(np.ceil(max(rules.margin_mm, rules.chest_margin_mm) / max(scan.slice_mm, 1e-3)))
    below, above = _beyond(scan.levels[0], -1), _beyond(scan.levels[-1], +1)
    levels = np.array([below] * reach + list(scan.levels) + [above] * reach)
    allowed = np.isin(levels, sorted(placement.regions)) | (levels == "")
    for region in placement.regions:
        where = levels == region
        if not where.any():
            continue
        distance = ndimage.distance_transform_edt(~where) * scan.slice_mm
        across = {"chest": "abdomen", "abdomen": "chest"}.get(region, "")
        allowed |= distance <= np.where(levels == across, rules.chest_margin_mm, rules.margin_mm)
    return np.asarray(allowed[reach:len(allowed) - reach], dtype=bool)


def _beyond(end: str, step: int) -> str:
    """What the body may show just past the scan's end slice (``step`` -1: below it, +1: above):
    the next region that way, since the scan may stop anywhere (a single slice at the upper
    abdomen with lung in it is labelled chest, yet the spleen may lie on it)."""
    if end not in BODY_ORDER:
        return ""
    at = BODY_ORDER.index(end) + step
    return BODY_ORDER[at] if 0 <= at < len(BODY_ORDER) else end


def slices_to_run(placement: Placement, scan: ScanAnatomy, rules: GuardRules = GuardRules()) -> Optional[np.ndarray]:
    """(K,) bool over the volume's slices (its last axis) where the guard could keep anything of
    the target: the engine need not run the others. ``None``: every slice (no levels, no level
    rule, or slices that are not axial)."""
    levels = _allowed_levels(placement, scan, rules)
    if levels is None or scan.view is None or scan.view.axis != 2:
        return None
    return np.asarray(levels[::-1] if scan.view.flipped else levels, dtype=bool)


def _cut(region: RegionMask, placement: Placement, scan: ScanAnatomy, rules: GuardRules,
         voxel_ml: float) -> tuple[Optional[RegionMask], list[Dropped]]:
    """Steps 1 and 2: voxel by voxel."""
    if scan.view is None or scan.trunk is None:
        return region, []
    levels = _allowed_levels(placement, scan, rules)
    if not placement.in_trunk and levels is None:
        return region, []
    where = _voxels(region)
    cells = scan.view.locate(where)
    keep = np.ones(len(where), dtype=bool)
    dropped = []
    if placement.in_trunk:
        outside = ~scan.trunk.holds(cells)
        if outside.any():
            dropped.append(Dropped(OUTSIDE_TRUNK, int(outside.sum()), float(outside.sum()) * voxel_ml))
        keep &= ~outside
    if levels is not None:
        off = keep & ~levels[cells[:, 2]]
        if off.any():
            dropped.append(Dropped(OFF_LEVEL, int(off.sum()), float(off.sum()) * voxel_ml))
        keep &= ~off
    if keep.all():
        return region, dropped
    mask = region.mask.copy()
    gone = where[~keep] - np.asarray(region.offset)
    mask[gone[:, 0], gone[:, 1], gone[:, 2]] = False
    return crop(RegionMask(region.offset, mask)), dropped


def _pieces(region: RegionMask, placement: Placement, scan: ScanAnatomy, rules: GuardRules,
            voxel_ml: float) -> tuple[Optional[RegionMask], list[Dropped]]:
    """Steps 3 and 4: piece by piece."""
    if not (placement.side or placement.pieces or placement.per_side):
        return region, []
    labels, count = ndimage.label(region.mask, structure=CONNECTIVITY)
    if count == 0:
        return None, []
    index = np.arange(1, count + 1)
    sizes = np.asarray(ndimage.sum_labels(region.mask, labels, index), dtype=np.int64)
    centres = np.asarray(ndimage.center_of_mass(region.mask, labels, index), dtype=float).reshape(-1, 3)
    centres += np.asarray(region.offset, dtype=float)
    mm_x = centres @ scan.affine[0, :3] + scan.affine[0, 3]
    offset = mm_x - scan.midline_x(centres)  # RAS+: > 0 is the patient's right
    side = np.where(offset >= rules.midline_mm, "right", np.where(offset <= -rules.midline_mm, "left", "midline"))
    keep = np.ones(count, dtype=bool)
    dropped = []
    if placement.side:
        wrong = side != placement.side
        if wrong.any():
            dropped.append(Dropped(WRONG_SIDE, int(sizes[wrong].sum()), float(sizes[wrong].sum()) * voxel_ml))
        keep &= ~wrong
    if (placement.pieces == 1 or placement.per_side) and keep.any():
        chosen = np.zeros(count, dtype=bool)
        groups = [side == s for s in ("left", "right")] if placement.per_side else [np.ones(count, dtype=bool)]
        for group in groups:
            candidates = np.flatnonzero(keep & group)
            if candidates.size:
                largest = int(candidates[np.argmax(sizes[candidates])])
                chosen[largest] = True
                others = [int(c) for c in candidates
                          if c != largest and sizes[c] >= rules.min_share * sizes[largest]]
                if others:
                    gaps = _gaps_mm(labels, largest + 1, [c + 1 for c in others], scan.affine)
                    chosen[others] = gaps <= rules.near_mm
        extra = keep & ~chosen
        if extra.any():
            dropped.append(Dropped(EXTRA_PIECE, int(sizes[extra].sum()), float(sizes[extra].sum()) * voxel_ml))
        keep = chosen
    if keep.all():
        return region, dropped
    lookup = np.zeros(count + 1, dtype=bool)
    lookup[1:] = keep
    return crop(RegionMask(region.offset, lookup[labels])), dropped


def _gaps_mm(labels: np.ndarray, main: int, others: list[int], affine: np.ndarray) -> np.ndarray:
    """The shortest distance in mm from piece ``main`` to each of ``others`` (surface to surface).
    Each piece's surface is found inside its own bounding box, so many small pieces stay cheap."""
    from scipy.spatial import cKDTree

    boxes = ndimage.find_objects(labels)

    def surface(value: int) -> np.ndarray:
        box = boxes[value - 1]
        piece = np.pad(labels[box] == value, 1)  # a margin so a box-filling piece still has a surface
        edge = np.argwhere(piece & ~ndimage.binary_erosion(piece)) - 1 + np.array([b.start for b in box])
        return np.asarray(edge @ affine[:3, :3].T)

    tree = cKDTree(surface(main))
    return np.array([float(tree.query(surface(value))[0].min()) for value in others])


def guard(region: RegionMask, placement: Placement, scan: ScanAnatomy, rules: GuardRules = GuardRules()) -> Guarded:
    """What of ``region`` stands for a target placed as ``placement`` on the scan ``scan``."""
    kept, dropped = _cut(region, placement, scan, rules, scan.voxel_ml)
    if kept is not None:
        kept, more = _pieces(kept, placement, scan, rules, scan.voxel_ml)
        dropped += more
    return Guarded(kept, tuple(dropped))


def touches_ends(region: RegionMask, scan: ScanAnatomy) -> bool:
    """The region reaches the first or last axial slice: the scan may have cut it off."""
    axis = scan.view.axis if scan.view is not None else 2
    start = region.offset[axis]
    return start == 0 or start + region.mask.shape[axis] >= scan.shape[axis]


def concerns(region: RegionMask, volume_ml: float, side: str, placement: Placement, scan: ScanAnatomy,
             mean_hu: Optional[float] = None) -> tuple[str, ...]:
    """What is implausible about a finding that stands: short phrases for the answer. ``mean_hu``: its
    mean on a CT in Hounsfield units (None elsewhere: MR and windowed pictures have no such scale)."""
    found = []
    if placement.volume_ml is not None:
        low, high = placement.volume_ml
        if volume_ml > high:
            found.append(f"{volume_ml:.1f} mL is far above the usual {low:g}-{high:g} mL")
        elif volume_ml < low and not touches_ends(region, scan):
            found.append(f"{volume_ml:.1f} mL is far below the usual {low:g}-{high:g} mL")
    if placement.usual_side and side in ("left", "right") and side != placement.usual_side:
        found.append(f"it lies on the patient's {side}, where it is not normally found")
    if placement.hu is not None and mean_hu is not None and not placement.hu[0] <= mean_hu <= placement.hu[1]:
        low, high = placement.hu
        found.append(f"its mean {mean_hu:.0f} HU is outside the usual {low:g} to {high:g} HU for it on CT")
    return tuple(found)
