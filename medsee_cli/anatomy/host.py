"""A lesion lies in its organ: pieces of a lesion finding that lie elsewhere are dropped.

An organ-specific lesion target (the liver lesion) names the organ it lies in (``Placement.within``)
and the neighbours it is not (``Placement.not_within``); the engine outlines those too, in the same
pass, without reporting them. A piece of the lesion's region is dropped when most of its voxels lie
*elsewhere*: outside the organ's envelope on a slice where the organ is outlined, or inside a
neighbour's outline and outside the organ's envelope. The envelope is the organ's outline on each
axial slice grown by ``margin_mm``, closed over ``closing_mm`` and with its holes filled, since a
lesion is often left out of its organ's own outline as a hole in it or a bite from its edge (lesions
12-24 mm across just under the liver's surface, cut out of the liver's outline, stand:
`tests/anatomy/test_host.py`). An outline the guard doubts (its
``concerns``) is not evidence and is ignored: where the organ itself is not trustworthy, only the
neighbours speak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

from medsee_cli.anatomy.axial import axial_axis
from medsee_cli.anatomy.guard import Dropped
from medsee_cli.anatomy.placement import Placement
from medsee_cli.anatomy.scan_anatomy import ScanAnatomy
from medsee_cli.measure.region import CONNECTIVITY, RegionMask, crop

ELSEWHERE = "lying mostly outside the organ it belongs to, or inside another organ"


@dataclass(frozen=True)
class HostRules:
    margin_mm: float = 3.0  # how far beyond its organ's outline (in plane) a lesion may reach
    closing_mm: float = 15.0  # bites from the outline's edge up to about twice this wide are closed
    max_elsewhere: float = 0.5  # a piece with a larger share of its voxels elsewhere is dropped


def _canvas(region: RegionMask, origin: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    """``region`` drawn on a window of the volume that starts at voxel ``origin`` and has ``shape``."""
    full = np.zeros(shape, dtype=bool)
    lo = [max(o, w) for o, w in zip(region.offset, origin)]
    hi = [min(o + n, w + m) for o, n, w, m in zip(region.offset, region.mask.shape, origin, shape)]
    if all(a < b for a, b in zip(lo, hi)):
        full[tuple(slice(a - w, b - w) for a, b, w in zip(lo, hi, origin))] = \
            region.mask[tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, region.offset))]
    return full


def envelope(organ: np.ndarray, axis: int, pixel_mm: float, rules: HostRules) -> np.ndarray:
    """Per slice along ``axis``: ``organ`` grown by ``rules.margin_mm`` (at least one pixel) in plane,
    closed over ``rules.closing_mm`` and with its holes filled."""
    grow = max(1, int(round(rules.margin_mm / max(pixel_mm, 1e-3))))
    close = int(round(rules.closing_mm / max(pixel_mm, 1e-3)))
    out = np.zeros_like(organ)
    moved, target = np.moveaxis(organ, axis, 0), np.moveaxis(out, axis, 0)
    pad = grow + close + 1
    for k in np.flatnonzero(moved.any(axis=(1, 2))):
        rows, cols = (np.flatnonzero(moved[k].any(axis=a)) for a in (1, 0))
        r0, c0 = max(rows[0] - pad, 0), max(cols[0] - pad, 0)
        r1, c1 = min(rows[-1] + pad + 1, moved.shape[1]), min(cols[-1] + pad + 1, moved.shape[2])
        grown = np.pad(ndimage.binary_dilation(moved[k, r0:r1, c0:c1], iterations=grow), close + 1)
        closed = ndimage.binary_closing(grown, iterations=close) if close else grown
        target[k, r0:r1, c0:c1] = ndimage.binary_fill_holes(closed)[close + 1:-close - 1, close + 1:-close - 1]
    return out


def hold_to_host(region: RegionMask, placement: Placement, outlines: Mapping[str, RegionMask], scan: ScanAnatomy,
                 rules: HostRules = HostRules()) -> tuple[Optional[RegionMask], tuple[Dropped, ...]]:
    """``region`` without the pieces lying elsewhere than ``placement.within`` (see the module) on the scan
    ``scan`` (its `scan_anatomy`: only its geometry is used, so MR too); ``outlines``: the trustworthy outlines
    of the other targets found in the same run, by name.
    Nothing changes when neither the organ nor any neighbour was outlined."""
    organ = outlines.get(placement.within) if placement.within else None
    rivals = [outlines[name] for name in placement.not_within if name in outlines]
    if organ is None and not rivals:
        return region, ()
    axis = axial_axis(scan.affine)
    spacing = np.sqrt((np.asarray(scan.affine, dtype=float)[:3, :3] ** 2).sum(axis=0))
    pixel_mm = float(min(s for a, s in enumerate(spacing) if a != axis))
    # the window: the lesion's axial slices, whole in plane (an organ's holes are filled slice by slice)
    origin = tuple(region.offset[a] if a == axis else 0 for a in range(3))
    window = tuple(int(region.mask.shape[a]) if a == axis else scan.shape[a] for a in range(3))
    own = _canvas(region, origin, window)
    inside = np.zeros(window, dtype=bool)
    outlined = np.zeros(window, dtype=bool)  # on a slice where the organ is outlined
    plane = tuple(a for a in range(3) if a != axis)
    if organ is not None:
        drawn = _canvas(organ, origin, window)
        inside = envelope(drawn, axis, pixel_mm, rules)
        outlined = np.broadcast_to(np.expand_dims(drawn.any(axis=plane), plane), window)
    in_rival = np.zeros(window, dtype=bool)
    for rival in rivals:
        in_rival |= _canvas(rival, origin, window)
    elsewhere = own & ~inside & (outlined | in_rival)
    labels, count = ndimage.label(region.mask, structure=CONNECTIVITY)
    if count == 0:
        return region, ()
    index = np.arange(1, count + 1)
    sizes = np.asarray(ndimage.sum_labels(region.mask, labels, index))
    box = tuple(slice(o - w, o - w + n) for o, w, n in zip(region.offset, origin, region.mask.shape))
    away = np.asarray(ndimage.sum_labels(elsewhere[box], labels, index))
    gone = away > rules.max_elsewhere * sizes
    if not gone.any():
        return region, ()
    lost = int(sizes[gone].sum())
    keep = np.zeros(count + 1, dtype=bool)
    keep[1:] = ~gone
    kept = crop(RegionMask(region.offset, keep[labels]))
    return kept, (Dropped(ELSEWHERE, lost, lost * scan.voxel_ml),)
