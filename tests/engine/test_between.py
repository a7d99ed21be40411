"""Thin slices: the engine reads every n-th slice and draws the ones between (`engine.between`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from medsee_cli.engine.between import between, read_slices, read_step
from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.engine.tracks import SliceHit
from tests.engine.conftest import ball_volume, measured
from tests.engine.toy import BrightModel, vectors


@pytest.mark.parametrize("spacing, step", [(1.12, 3), (1.5, 2), (1.25, 2), (0.625, 5), (1.0, 3), (2.0, 1),
                                           (3.0, 1), (5.0, 1), (0.0, 1), (float("nan"), 1)])
def test_read_step_keeps_read_slices_within_the_spacing(spacing, step):
    assert read_step(spacing, 3.5) == step
    if step > 1:
        assert step * spacing <= 3.5 * 1.05 < (step + 1) * spacing


def test_reading_every_slice_when_asked():
    assert read_step(0.5, 0.0) == 1
    with pytest.raises(ValueError, match="read_spacing_mm"):
        EngineOptions(read_spacing_mm=-1.0)


def test_read_slices_include_both_ends():
    assert read_slices(10, 3).tolist() == [0, 3, 6, 9]
    assert read_slices(11, 3).tolist() == [0, 3, 6, 9, 10]
    assert read_slices(5, 1).tolist() == [0, 1, 2, 3, 4]


def _disc(k: int, centre: tuple[float, float], radius: float, score: float) -> SliceHit:
    ii, jj = np.ogrid[:80, :90]
    hit = SliceHit.from_mask(k, score, (ii - centre[0]) ** 2 + (jj - centre[1]) ** 2 <= radius ** 2)
    assert hit is not None
    return hit


def test_between_grows_and_moves_a_shape_linearly():
    first, last = _disc(10, (30, 30), 8, 0.9), _disc(13, (33, 36), 14, 0.6)
    drawn = between(first, last, range(11, 13))
    assert [h.k for h in drawn] == [11, 12]
    for hit, t in zip(drawn, (1 / 3, 2 / 3)):
        radius = 8 + t * 6
        assert abs(hit.voxels - np.pi * radius ** 2) / (np.pi * radius ** 2) < 0.08
        i0, j0, i1, j1 = hit.box
        assert abs((i0 + i1) / 2 - (30 + t * 3)) <= 1 and abs((j0 + j1) / 2 - (30 + t * 6)) <= 1
        assert hit.score == pytest.approx(0.9 + t * (0.6 - 0.9))


def test_between_two_pieces_and_shapes_touching_the_image_edge():
    ii, jj = np.ogrid[:40, :40]
    two = SliceHit.from_mask(0, 1.0, ((ii - 10) ** 2 + (jj - 8) ** 2 <= 16) | ((ii - 10) ** 2 + (jj - 30) ** 2 <= 16))
    edge = SliceHit.from_mask(2, 1.0, (ii < 6) & (jj < 12))
    assert two is not None and edge is not None
    (middle,) = between(two, replace(two, k=2), range(1, 2))
    assert middle.voxels == two.voxels and middle.box == two.box  # the same shape twice is that shape
    (corner,) = between(replace(edge, k=0), edge, range(1, 2))
    assert corner.box == (0, 0, 5, 11) and corner.voxels == 72


def test_a_thin_slice_volume_is_read_every_third_slice_and_drawn_whole():
    # a ball on 1 mm slices: reading every 3rd slice and drawing the rest gives the ball of a full read
    volume = ball_volume(shape=(64, 48, 90), centre=(30, 20, 45), radius=14.0,
                         affine=np.diag([0.8, 0.8, 1.0, 1.0]))
    options = dict(device="cpu", precision="fp32", skip_stride=1)
    full = SliceEngine(BrightModel(), EngineOptions(**options, read_spacing_mm=0)).run(volume, ["bright"], vectors(["bright"]))
    model = BrightModel()
    thin = SliceEngine(model, EngineOptions(**options)).run(volume, ["bright"], vectors(["bright"]))
    assert full.slice_step == 1 and full.slices_run == 90
    assert thin.slice_step == 3 and thin.slices_run == sum(model.encoded) == 31  # 0, 3, ..., 87 and the last, 89
    assert thin.stats()["slice_step"] == 3
    a, b = measured(volume, full.tracks[0]), measured(volume, thin.tracks[0])
    assert a.present and b.present and b.pieces == 1
    truth, drawn = set(full.tracks[0].hits), set(thin.tracks[0].hits)
    assert drawn <= truth and len(truth - drawn) <= 4  # at most 2 slices lost at each end
    overlap = sum(int((full.tracks[0].hits[k].mask.sum())) for k in drawn)
    assert abs(b.voxels - a.voxels) / a.voxels < 0.05 and overlap >= 0.95 * a.voxels
    assert np.all(np.isfinite(thin.tracks[0].scores[sorted(drawn)]))
