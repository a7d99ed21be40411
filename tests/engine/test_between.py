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


@pytest.mark.parametrize("spacing, step, bridge_mm, positions", [(1.12, 3, 7.0, 2), (1.0, 3, 7.0, 2), (0.625, 5, 7.0, 2),
                                                                 (1.12, 3, 10.0, 3), (1.12, 3, 14.0, 4), (1.5, 2, 7.0, 2),
                                                                 (3.0, 1, 7.0, 0), (1.12, 3, 0.0, 0), (1.12, 3, 4.0, 0)])
def test_bridging_spans_at_most_bridge_mm_of_read_slices_and_only_on_thin_slices(spacing, step, bridge_mm, positions):
    from medsee_cli.engine.between import bridge_positions

    assert bridge_positions(spacing, step, bridge_mm) == positions


def test_agreement_is_the_dice_of_two_outlines_where_they_lie():
    from medsee_cli.engine.between import agreement

    a = _disc(10, (30, 30), 8, 0.9)
    assert agreement(a, replace(a, k=12)) == pytest.approx(1.0)
    assert agreement(a, _disc(12, (60, 70), 8, 0.9)) == 0.0
    half = SliceHit.from_mask(12, 0.9, np.pad(a.mask[:, : a.mask.shape[1] // 2], 0))
    assert half is not None
    moved = replace(half, offset=a.offset)
    assert 0.5 < agreement(a, moved) < 0.8


def test_the_middle_is_run_unless_both_outlines_agree_and_bridged_slices_are_drawn():
    from medsee_cli.engine.between import bisect_positions, drawn_spans
    from medsee_cli.engine.tracks import TargetTrack

    track = TargetTrack("organ", 12)
    for g in (0, 2, 4, 8):  # run: 0 (nothing), 2 and 4 (the same disc), 8 (a disc elsewhere)
        track.record(g, 0.9 if g else 0.01, None if g == 0 else _disc(g, (30, 30) if g < 8 else (60, 70), 8, 0.9))
    ran = ~np.isnan(track.scores)
    plausible = (np.nan_to_num(track.scores) >= 0.25)[None, :]
    # 0-2: the disc appears (run 1); 2-4: agree within 2 positions (bridged); 4-8: far apart (run 6)
    assert bisect_positions(ran, ran.copy(), plausible, [track], bridge=2, agree=0.8) == [1, 6]
    assert bisect_positions(ran, ran.copy(), plausible, [track], bridge=0, agree=0.8) == [1, 3, 6]
    assert drawn_spans(track, bridge=2) == [(2, 4)]  # 4-8 is more than 2 apart and 6 was never run
    track.record(3, 0.1, None)  # run and nothing found: the span is no longer drawn
    assert drawn_spans(track, bridge=2) == []


def test_bridging_a_thin_ball_runs_fewer_slices_for_the_same_ball():
    volume = ball_volume(shape=(64, 48, 90), centre=(30, 20, 45), radius=14.0,
                         affine=np.diag([0.8, 0.8, 1.0, 1.0]))
    runs = {}
    for bridge in (0.0, 7.0):
        model = BrightModel()
        runs[bridge] = SliceEngine(model, EngineOptions(device="cpu", precision="fp32", bridge_mm=bridge)).run(
            volume, ["bright"], vectors(["bright"]))
        assert runs[bridge].slices_run == sum(model.encoded)
    plain, bridged = runs[0.0], runs[7.0]
    assert plain.slices_bridged == 0 and bridged.slices_bridged > 0
    assert bridged.slices_run <= plain.slices_run - bridged.slices_bridged
    assert bridged.stats()["slices_bridged"] == bridged.slices_bridged
    a, b = measured(volume, plain.tracks[0]), measured(volume, bridged.tracks[0])
    assert a.present and b.present and b.pieces == 1
    assert abs(b.voxels - a.voxels) / a.voxels < 0.03
    assert set(bridged.tracks[0].hits) == set(plain.tracks[0].hits)  # drawn over the same slices
    assert np.all(np.isfinite(bridged.tracks[0].scores[sorted(bridged.tracks[0].hits)]))


def test_bridging_options_are_checked():
    with pytest.raises(ValueError, match="bridge_mm"):
        EngineOptions(bridge_mm=-1.0)
    with pytest.raises(ValueError, match="bridge_agreement"):
        EngineOptions(bridge_agreement=1.5)


def test_drawn_slices_are_marked_in_the_track_and_the_finding():
    volume = ball_volume(shape=(64, 48, 90), centre=(30, 20, 45), radius=14.0,
                         affine=np.diag([0.8, 0.8, 1.0, 1.0]))
    run = SliceEngine(BrightModel(), EngineOptions(device="cpu", precision="fp32")).run(volume, ["bright"], vectors(["bright"]))
    track = run.tracks[0]
    read = set(range(0, 90, 3)) | {89}
    between_read = {k for k in track.hits if k not in read}
    assert between_read and between_read <= track.drawn  # every slice between read slices is drawn
    assert len(track.drawn - between_read) == run.slices_bridged > 0  # and the read slices bridged
    entries = measured(volume, track).slices
    assert {e["index"] for e in entries if e["drawn"]} == track.drawn
