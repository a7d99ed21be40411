from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.engine.batching import AdaptiveBatcher, is_out_of_memory
from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine, coarse_indices, next_indices
from tests.engine.conftest import ball_volume, measured
from tests.engine.toy import BrightModel, vectors

CPU = dict(device="cpu", precision="fp32")


def run(volume, model, **options):
    engine = SliceEngine(model, EngineOptions(**{**CPU, **options}))
    return engine, engine.run(volume, ["bright"], vectors(["bright"]))


def test_full_pass_finds_the_ball_on_the_right_slices(ball):
    engine, result = run(ball, BrightModel(), skip_stride=1, batch_size=8)
    assert result.slices_run == 120 and result.passes == 1
    track = result.tracks[0]
    assert sorted(track.hits) == list(range(48, 63))  # radius 8 around k=55, edge slices too small to show
    finding = measured(ball, track)
    assert finding.present and finding.pieces == 1
    truth = int((np.asarray(ball.dataobj) > 500).sum())
    assert abs(finding.voxels - truth) / truth < 0.15
    lo, hi = finding.box_voxel["min"], finding.box_voxel["max"]
    assert abs(lo[0] - 22) <= 2 and abs(hi[0] - 38) <= 2 and abs(lo[1] - 12) <= 2 and abs(hi[1] - 28) <= 2


def test_skip_pass_runs_far_fewer_slices_and_finds_the_same_range(ball):
    _, full = run(ball, BrightModel(), skip_stride=1)
    model = BrightModel()
    _, skipped = run(ball, model, skip_stride=6)
    assert sorted(skipped.tracks[0].hits) == sorted(full.tracks[0].hits)
    assert skipped.slices_run == sum(model.encoded)
    assert skipped.slices_run <= 0.45 * full.slices_run, skipped.slices_run
    assert skipped.passes >= 2


def test_nothing_present_costs_only_the_coarse_pass():
    volume = ball_volume(value=40)  # no bright ball
    _, result = run(volume, BrightModel(), skip_stride=8)
    assert result.slices_run == len(coarse_indices(120, 8)) == 16
    assert not result.tracks[0].hits and not measured(volume, result.tracks[0]).present


def test_schedule_helpers():
    assert coarse_indices(10, 4) == [0, 4, 8, 9]
    done = np.zeros(12, bool)
    done[[0, 4, 8]] = True
    plausible = np.zeros(12, bool)
    plausible[4] = True
    assert next_indices(done, plausible, 2) == [2, 3, 5, 6]


def test_out_of_memory_halves_the_batch_and_gives_the_same_result(ball):
    _, reference = run(ball, BrightModel(), skip_stride=1, batch_size=2)
    model = BrightModel(oom_above=2)
    engine, result = run(ball, model, skip_stride=1, batch_size=8)
    assert engine.batcher.size == 2 and engine.batcher.halvings == 2  # 8 -> 4 -> 2
    assert max(model.encoded) == 2 and sum(model.encoded) == 120
    assert result.batch_size == 2
    assert sorted(result.tracks[0].hits) == sorted(reference.tracks[0].hits)
    for k, hit in reference.tracks[0].hits.items():
        assert np.array_equal(result.tracks[0].hits[k].mask, hit.mask)


def test_out_of_memory_at_batch_one_and_other_errors_are_raised():
    batcher = AdaptiveBatcher(4)

    def always_oom(a, b):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        batcher.run(3, always_oom)
    assert batcher.size == 1
    with pytest.raises(ZeroDivisionError):
        AdaptiveBatcher(4).run(3, lambda a, b: 1 / 0)
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_context_slices_reach_the_model(ball):
    model = BrightModel(context_slices=1)
    engine, result = run(ball, model, skip_stride=1, batch_size=4)
    assert engine.context == 1
    assert all(shape[-1] == 3 for shape in model.prepared_shapes)
    assert len(result.tracks[0].hits) == 15


def test_two_targets_in_one_pass(ball):
    _, result = run(ball, BrightModel(), skip_stride=1, batch_size=16)
    engine = SliceEngine(BrightModel(), EngineOptions(**CPU, skip_stride=1))
    both = engine.run(ball, ["bright", "very_bright"], vectors(["bright", "very_bright"]))
    assert [t.name for t in both.tracks] == ["bright", "very_bright"]
    assert sorted(both.tracks[0].hits) == sorted(result.tracks[0].hits) and not both.tracks[1].hits


def test_the_model_s_calibrated_gate_per_target_and_the_option_that_overrides_it():
    faint = ball_volume(value=520)  # presence logit ~1.6 (probability ~0.83) inside the ball
    model = BrightModel()
    assert SliceEngine(model, EngineOptions(**CPU)).threshold_for("bright") == 0.5  # logit 0: 0.5
    model.gates = {"bright": 2.0}  # a calibrated bar above what the ball reaches
    engine = SliceEngine(model, EngineOptions(**CPU, skip_stride=1))
    assert engine.threshold_for("bright") == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert engine.threshold_for("other") == 0.5
    assert not engine.run(faint, ["bright"], vectors(["bright"])).tracks[0].hits
    model.gates = {"bright": -1.0}
    assert engine.run(faint, ["bright"], vectors(["bright"])).tracks[0].hits
    forced = SliceEngine(model, EngineOptions(**CPU, skip_stride=1, presence_threshold=0.9))
    assert forced.threshold_for("bright") == 0.9 and not forced.run(faint, ["bright"], vectors(["bright"])).tracks[0].hits


def test_short_gaps_between_hits_are_filled_with_the_gate_open():
    """Two slices of the ball are dimmer: their presence falls under the gate (logit 10) while
    their coarse mask still marks the ball. The gap pass finds them; a far dim slice is left."""
    from medsee_cli.engine.stream import gap_slices

    data = np.array(ball_volume().dataobj)
    dim = np.zeros(data.shape, bool)
    dim[:, :, 54:56] = True
    data[(data == 1000) & dim] = 600  # coarse logit (600 - 500) / 50 = 2 > 0, presence 4 * 2 = 8 < 10
    volume = type(ball_volume())(data, np.diag([0.8, 0.8, 2.5, 1.0]), modality="CT")
    model = BrightModel()
    model.gates = {"bright": 10.0}
    plain = SliceEngine(model, EngineOptions(**CPU, skip_stride=1, fill_gaps=0)).run(volume, ["bright"], vectors(["bright"])).tracks[0]
    assert 54 not in plain.hits and 55 not in plain.hits and 53 in plain.hits and 56 in plain.hits
    engine = SliceEngine(model, EngineOptions(**CPU, skip_stride=1))
    filled = engine.run(volume, ["bright"], vectors(["bright"]))
    assert sorted(filled.tracks[0].hits) == sorted(set(plain.hits) | {54, 55})
    assert filled.passes == 2 and filled.slices_run == 120 + 2
    assert gap_slices(filled.tracks, 2) == {}  # nothing left to fill
    # Gaps longer than fill_gaps stay open, and a target without hits is never filled.
    assert gap_slices([plain], 1) == {}
    assert gap_slices([plain], 2) == {54: {0}, 55: {0}}
