"""Body levels: the body region each axial slice of a CT shows, from simple per-slice statistics (no model).

Every axial slice (along the axis closest to the patient's superior direction, from the affine) is
measured on a coarse grid: the body (above -500 HU, holes filled), aerated lung (-950 to -500 HU,
darker air lies outside the body), bone (above 400 HU, above most contrast-filled vessels) and large
pieces of bone (above 200 HU) in each outer third of the body. A slice is chest when much of it is
aerated lung, head when a whole small body is ringed by bone, neck when it is small without that ring,
pelvis when big pieces of bone (the iliac wings, the femoral heads) lie on both sides of the trunk
(`trunk`: arms held by the side, with their bones, do not count), abdomen otherwise. A field of
view cropped inside the body is never called head or neck. A region counts when enough slices say so.

Only data in Hounsfield units is read this way: an image whose values do not look like HU (an MR, or
CT already windowed to 0-255 such as the DeepLesion slabs) gives no regions, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from medsee_cli.anatomy.axial import Axial, axial
from medsee_cli.anatomy.trunk import BODY_HU, slice_trunk


@dataclass(frozen=True)
class RegionRules:
    """Thresholds of the per-slice rules (HU, fractions of a slice, cm^2)."""

    body_hu: float = BODY_HU
    lung_low_hu: float = -950.0  # aerated lung lies between these; air outside the body is lower
    lung_high_hu: float = -500.0
    bone_hu: float = 400.0  # above contrast-filled vessels in most scans, below cortical bone
    lung_fraction: float = 0.2
    small_body_cm2: float = 300.0
    head_bone_fraction: float = 0.1
    pelvis_bone_hu: float = 200.0
    pelvis_piece_cm2: float = 2.0  # an iliac wing or femoral head in each outer third of the body
    min_body_cm2: float = 40.0
    min_slices: int = 2
    min_share: float = 0.04


def looks_like_hu(values: np.ndarray) -> bool:
    """Air near -1000 and tissue near 0: a CT in Hounsfield units (not 0-255, not an MR)."""
    if values.size == 0:
        return False
    low, high = np.percentile(values, [1, 99.5])
    return bool(low <= -700 and high >= 0 and (values < -900).mean() > 0.01)


def hu_sample(volume: Any) -> np.ndarray:
    """A coarse sample of the voxel values (every few voxels in plane), enough to tell HU apart."""
    data = np.asarray(volume.array())
    return data[:: max(1, data.shape[0] // 64), :: max(1, data.shape[1] // 64)]


def _pelvic_bone(bone: np.ndarray, body: np.ndarray, lr_axis: int, piece_px: float) -> bool:
    """A large piece of bone in each outer third of the body's width (iliac wings, femoral heads)."""
    from scipy import ndimage

    extent = np.flatnonzero(body.any(axis=1 - lr_axis))
    if extent.size < 6:
        return False
    third = (extent[-1] - extent[0]) / 3.0
    pieces, count = ndimage.label(bone)
    if count == 0:
        return False
    sizes = ndimage.sum(bone, pieces, index=range(1, count + 1))
    centres = ndimage.center_of_mass(bone, pieces, range(1, count + 1))
    sides = set()
    for size, centre in zip(sizes, centres):
        where = centre[lr_axis]
        if size >= piece_px and where < extent[0] + third:
            sides.add("low")
        elif size >= piece_px and where > extent[-1] - third:
            sides.add("high")
    return sides == {"low", "high"}


def slice_labels(volume: Any, rules: RegionRules = RegionRules(), view: Optional[Axial] = None) -> list[str]:
    """One label per axial slice, inferior to superior ('' where there is no body); ``view``:
    the volume's `axial` view when the caller has it already."""
    from scipy import ndimage

    view = view if view is not None else axial(volume)
    labels = []
    for k in range(view.data.shape[-1]):
        plane = view.data[..., k].astype(np.float32)
        body = ndimage.binary_fill_holes(plane > rules.body_hu)
        inside = int(body.sum())
        if inside * view.pixel_cm2 < rules.min_body_cm2:
            labels.append("")
            continue
        cropped = bool(body[0].any() or body[-1].any() or body[:, 0].any() or body[:, -1].any())
        aerated = (plane > rules.lung_low_hu) & (plane < rules.lung_high_hu)
        lung = max(aerated.sum() / max(int((plane > rules.lung_low_hu).sum()), 1),
                   ((plane < rules.lung_high_hu) & body).sum() / inside)
        bone = (plane > rules.bone_hu) & body
        if lung >= rules.lung_fraction:
            labels.append("chest")
        elif not cropped and inside * view.pixel_cm2 < rules.small_body_cm2:
            labels.append("head" if bone.sum() / inside >= rules.head_bone_fraction else "neck")
        elif _pelvic_bone((plane > rules.pelvis_bone_hu) & (trunk := slice_trunk(body)), trunk, view.lr_axis,
                          rules.pelvis_piece_cm2 / view.pixel_cm2):
            labels.append("pelvis")
        else:
            labels.append("abdomen")
    return labels


def ct_regions(volume: Any, rules: RegionRules = RegionRules()) -> frozenset[str]:
    """The regions a CT in HU covers; empty when the data is not in HU."""
    if not looks_like_hu(hu_sample(volume)):
        return frozenset()
    labels = [label for label in slice_labels(volume, rules) if label]
    if not labels:
        return frozenset()
    need = max(rules.min_slices, int(np.ceil(rules.min_share * len(labels))))
    return frozenset(region for region in set(labels) if labels.count(region) >= need)
