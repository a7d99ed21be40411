"""Every metric on fixtures with hand-worked values, and against the reference library on random cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import surface_distance

from medsee_cli.eval.metrics import (
    PresenceCounts,
    box_from_mask,
    box_hit,
    box_iou,
    overlap,
    slice_dice,
    surface_scores,
)
from medsee_cli.eval.summary import summarise


def square(shape, r0, r1, c0, c1):
    m = np.zeros(shape, bool)
    m[r0:r1, c0:c1] = True
    return m


# ---- overlap -------------------------------------------------------------------------------

def test_iou_dice_hand_worked():
    target = square((10, 10), 0, 4, 0, 4)  # 16 px
    pred = square((10, 10), 2, 6, 0, 4)  # 16 px, overlapping 8
    o = overlap(pred, target)
    assert (o.intersection, o.union, o.predicted, o.target) == (8, 24, 16, 16)
    assert o.iou == pytest.approx(8 / 24)
    assert o.dice == pytest.approx(2 * 8 / 32)


def test_empty_rules():
    empty = np.zeros((5, 5), bool)
    some = square((5, 5), 1, 2, 1, 2)
    both = overlap(empty, empty)
    assert both.both_empty and both.iou == 1.0 and both.dice == 1.0 and math.isnan(both.dice_nnunet)
    false_positive = overlap(some, empty)  # nothing there, model says something
    assert false_positive.iou == 0.0 and false_positive.dice == 0.0 and false_positive.dice_nnunet == 0.0
    miss = overlap(empty, some)
    assert miss.iou == 0.0 and miss.dice == 0.0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shape"):
        overlap(np.zeros((3, 3), bool), np.zeros((3, 4), bool))


def _row(inter, union, pred, target, **extra):
    o = {"intersection": inter, "union": union, "predicted_voxels": pred, "target_voxels": target}
    iou = 1.0 if union == 0 else inter / union
    total = pred + target
    base = {
        "item_id": "x", "case_id": extra.pop("case", "c"), "target": "t", "ndim": 2, "missing": False,
        "iou": iou, "dice": 1.0 if total == 0 else 2 * inter / total,
        "dice_nnunet": float("nan") if total == 0 else 2 * inter / total,
        "dice_slices": float("nan"), "dice_slices_nnunet": float("nan"),
        "box_iou": float("nan"), "box_hit": None, "hd95": float("nan"), "nsd": float("nan"),
        "hd95_undefined": False, "target_present": target > 0, "predicted_present": pred > 0,
        **{k: v for k, v in o.items()},
    }
    base.update(extra)
    return base


def test_giou_ciou_hand_worked():
    # item A: I=1, U=4 (IoU .25); item B: I=90, U=100 (IoU .9); item C: both empty (IoU 1, LISA)
    rows = [_row(1, 4, 2, 3), _row(90, 100, 95, 95), _row(0, 0, 0, 0)]
    s = summarise(rows)
    assert s["giou"] == pytest.approx((0.25 + 0.9 + 1.0) / 3)
    assert s["ciou"] == pytest.approx(91 / 104)
    dice_a, dice_b = 2 * 1 / 5, 2 * 90 / 190
    assert s["dice"] == pytest.approx((dice_a + dice_b + 1.0) / 3)  # LISA: both empty = 1
    assert s["dice_nnunet"] == pytest.approx((dice_a + dice_b) / 2)  # nnU-Net: skipped


def test_slice_dice_rules():
    target = np.zeros((4, 4, 3), bool)
    pred = np.zeros((4, 4, 3), bool)
    target[0:2, 0:2, 0] = True  # slice 0: 4 px target, 4 px prediction overlapping 2
    pred[1:3, 0:2, 0] = True
    # slice 1: both empty; slice 2: prediction only
    pred[0, 0, 2] = True
    lisa, nnunet = slice_dice(pred, target)
    assert lisa == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert nnunet == pytest.approx((0.5 + 0.0) / 2)


# ---- boxes ---------------------------------------------------------------------------------

def test_box_from_mask_uses_pixel_edges():
    mask = square((10, 12), 2, 5, 3, 9)  # rows 2..4, cols 3..8
    assert box_from_mask(mask) == (3.0, 2.0, 9.0, 5.0)
    assert box_from_mask(np.zeros((3, 3), bool)) is None
    cube = np.zeros((5, 6, 7), bool)
    cube[1:3, 2:5, 4] = True
    assert box_from_mask(cube) == (1.0, 2.0, 4.0, 3.0, 5.0, 5.0)


def test_box_iou_hand_worked_and_strict_threshold():
    assert box_iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert box_iou((0, 0, 2, 2), (0, 0, 2, 2)) == 1.0
    assert box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert box_iou(None, (0, 0, 1, 1)) == 0.0
    exactly_half = box_iou((0, 0, 2, 1), (0, 0, 1, 1))
    assert exactly_half == 0.5 and not box_hit(exactly_half)  # MediSee: IoU > 0.5, strictly
    assert box_hit(0.5001)
    assert box_iou((0, 0, 0, 2, 2, 2), (1, 1, 1, 3, 3, 3)) == pytest.approx(1 / 15)


def test_normalised_boxes_give_the_same_iou():
    a, b = (10, 20, 50, 60), (30, 10, 70, 50)
    w, h = 100, 80
    na = (a[0] / w, a[1] / h, a[2] / w, a[3] / h)
    nb = (b[0] / w, b[1] / h, b[2] / w, b[3] / h)
    assert box_iou(na, nb) == pytest.approx(box_iou(a, b))


def test_box_iou_agrees_with_rasterised_boxes():
    rng = np.random.default_rng(3)
    for _ in range(50):
        boxes = []
        for _ in range(2):
            x0, y0 = rng.integers(0, 30, 2)
            x1, y1 = x0 + rng.integers(1, 20), y0 + rng.integers(1, 20)
            boxes.append((x0, y0, x1, y1))
        masks = [square((60, 60), b[1], b[3], b[0], b[2]) for b in boxes]
        assert box_iou(*boxes) == pytest.approx(overlap(*masks).iou)


# ---- surface -------------------------------------------------------------------------------

def test_hd95_and_nsd_hand_worked():
    target = square((20, 20), 5, 10, 5, 10)
    same = surface_scores(target, target, (1.0, 1.0), tolerance_mm=1.0)
    assert same.hd95 == 0.0 and same.nsd == 1.0
    shifted = np.roll(target, 1, axis=0)  # every boundary moves by one pixel along rows
    one_mm = surface_scores(shifted, target, (1.0, 1.0), tolerance_mm=1.0)
    assert one_mm.hd95 == pytest.approx(1.0)
    assert one_mm.nsd == pytest.approx(1.0)  # all within 1 mm
    two_mm = surface_scores(shifted, target, (2.0, 1.0), tolerance_mm=1.0)  # rows are 2 mm apart
    assert two_mm.hd95 == pytest.approx(2.0)
    assert two_mm.nsd < 1.0  # the top and bottom edges are now 2 mm off


def test_surface_empty_rules():
    empty = np.zeros((8, 8), bool)
    some = square((8, 8), 2, 4, 2, 4)
    both = surface_scores(empty, empty, (1, 1))
    assert math.isnan(both.hd95) and math.isnan(both.nsd) and not both.hd95_undefined
    one = surface_scores(some, empty, (1, 1))
    assert math.isnan(one.hd95) and one.nsd == 0.0 and one.hd95_undefined


def _blob(rng, shape):
    centre = rng.uniform(0.3, 0.7, len(shape)) * np.array(shape)
    radii = rng.uniform(2, min(shape) / 4, len(shape))
    grid = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii)) <= 1.0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("ndim", [2, 3])
def test_agrees_with_surface_distance_on_random_cases(ndim):
    rng = np.random.default_rng(ndim)
    shape = (40, 36) if ndim == 2 else (24, 22, 20)
    for _ in range(8):
        target, pred = _blob(rng, shape), _blob(rng, shape)
        spacing = tuple(float(s) for s in rng.uniform(0.5, 3.0, ndim))
        ours = surface_scores(pred, target, spacing, tolerance_mm=1.5)
        distances = surface_distance.compute_surface_distances(target, pred, list(spacing))
        assert ours.hd95 == pytest.approx(surface_distance.compute_robust_hausdorff(distances, 95))
        assert ours.nsd == pytest.approx(surface_distance.compute_surface_dice_at_tolerance(distances, 1.5))
        assert overlap(pred, target).dice == pytest.approx(surface_distance.compute_dice_coefficient(target, pred))


# ---- presence ------------------------------------------------------------------------------

def test_presence_counts_hand_worked():
    predicted = [True, True, False, False, True]
    present = [True, False, True, False, True]
    c = PresenceCounts.of(predicted, present)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert c.precision == pytest.approx(2 / 3) and c.recall == pytest.approx(2 / 3) and c.specificity == 0.5
    assert math.isnan(PresenceCounts().precision)


def test_presence_per_case_groups_items():
    rows = [
        _row(0, 3, 0, 3, case="p1"),  # p1: target present, model missed this slice...
        _row(2, 2, 2, 2, case="p1"),  # ...but found it on another: the case is a hit
        _row(0, 1, 1, 0, case="p2"),  # p2: target absent, model says present: a case-level FP
    ]
    s = summarise(rows)
    assert s["presence_slice"]["tp"] == 1 and s["presence_slice"]["fn"] == 1 and s["presence_slice"]["fp"] == 1
    assert s["presence_case"]["tp"] == 1 and s["presence_case"]["fp"] == 1 and s["presence_case"]["fn"] == 0
