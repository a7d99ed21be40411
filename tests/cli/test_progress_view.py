"""The terminal progress display: drawn only on a terminal without --json; one bar per case with
its stage and slices, and an overall bar of cases for a batch."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from medsee_cli.cli.progress_view import ProgressView, TimeLeft, progress_view, wanted
from medsee_cli.engine.progress import LOCATING, OUTLINING, READING, WRITING, Step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_never_with_json() -> None:
    assert wanted(False, Terminal())
    assert not wanted(True, Terminal())
    assert not wanted(False, io.StringIO())


def test_a_quiet_view_takes_every_step_and_draws_nothing() -> None:
    with progress_view(False, cases=3) as view:
        view(Step(READING, item="case1"))
        view(Step(LOCATING, 4, 30))
        view.case_done()
    assert view.bars is None


def bars() -> Progress:
    return Progress(console=Console(file=io.StringIO(), force_terminal=True, width=100))


def test_one_bar_follows_the_stage_and_the_slices() -> None:
    view = ProgressView(bars())
    view(Step(READING, item="scan.nii.gz"))
    view(Step(LOCATING, 0, 30))
    view(Step(LOCATING, 12, 30))
    (task,) = view.bars.tasks
    assert (task.description, task.completed, task.total, task.fields["count"]) == (LOCATING, 12, 30, "12/30 slices")
    view(Step(OUTLINING, 30, 41))
    view(Step(WRITING))
    (task,) = view.bars.tasks
    assert task.description == WRITING and task.fields["count"] == "30/41 slices"


def test_a_batch_has_an_overall_bar_and_a_fresh_bar_per_case() -> None:
    view = ProgressView(bars(), cases=2)
    view(Step(READING, item="case1"))
    view(Step(LOCATING, 5, 10))
    view.case_done()
    view(Step(READING, item="case7"))
    overall, case = view.bars.tasks
    assert overall.completed == 1 and overall.fields["count"] == "1/2 cases"
    assert case.description == "case7: reading" and case.completed == 0 and case.total is None


def test_time_left_is_shown_once_there_is_a_rate() -> None:
    clock = [0.0]
    progress = Progress(console=Console(file=io.StringIO()), get_time=lambda: clock[0])
    task = progress.add_task("locating", total=None, count="")
    assert TimeLeft().render(progress.tasks[0]).plain == ""
    progress.update(task, total=100, completed=10)
    clock[0] = 10.0
    progress.update(task, completed=30)  # 20 slices in 10 s: 70 left at 2 per second
    assert TimeLeft().render(progress.tasks[0]).plain == "about 0:35 left"
