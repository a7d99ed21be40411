"""The engine reports its passes and batches as `Step`s: locating first, then outlining; slices
done never run ahead of those scheduled and end at the slices it ran."""

from __future__ import annotations

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.progress import LOCATING, OUTLINING, SliceCounter, Step
from medsee_cli.engine.stream import SliceEngine, coarse_indices
from tests.engine.conftest import ball_volume
from tests.engine.toy import BrightModel, vectors


def run_with_steps(volume, **options) -> tuple[list[Step], object]:  # type: ignore[no-untyped-def]
    steps: list[Step] = []
    engine = SliceEngine(BrightModel(), EngineOptions(device="cpu", precision="fp32", **options))
    return steps, engine.run(volume, ["bright"], vectors(["bright"]), steps.append)


def test_the_coarse_pass_is_locating_and_the_later_passes_are_outlining(ball):
    steps, result = run_with_steps(ball, skip_stride=6, batch_size=4)
    assert steps[0] == Step(LOCATING, 0, len(coarse_indices(120, 6)))
    stages = [s.stage for s in steps]
    assert OUTLINING in stages and stages.index(OUTLINING) > stages.index(LOCATING)
    assert LOCATING not in stages[stages.index(OUTLINING):]
    assert all(0 <= s.done <= s.total for s in steps)
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    assert [s.total for s in steps] == sorted(s.total for s in steps)
    assert steps[-1].done == steps[-1].total == result.slices_run


def test_one_report_per_batch():
    steps, result = run_with_steps(ball_volume(value=40), skip_stride=8, batch_size=4)
    assert result.slices_run == 16 and result.passes == 1
    assert steps == [Step(LOCATING, 0, 16)] + [Step(LOCATING, n, 16) for n in (4, 8, 12, 16)]


def test_the_counter_adds_passes_up():
    steps: list[Step] = []
    counter = SliceCounter(steps.append)
    counter.plan(LOCATING, 10)
    counter.advance(10)
    counter.plan(OUTLINING, 3)
    counter.advance(2)
    assert steps == [Step(LOCATING, 0, 10), Step(LOCATING, 10, 10), Step(OUTLINING, 10, 13), Step(OUTLINING, 12, 13)]
