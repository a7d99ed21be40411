"""Progress on a terminal: the stages and slices a run reports (`engine.progress`), drawn with rich.

Shown only when stderr is a terminal and ``--json`` is off (`wanted`): a pipe, a log file, cron
mail or a test runner gets nothing extra. One bar follows the current image: its stage
(reading, reasoning, loading the model, locating, outlining, writing), slices done / scheduled
and the time left at the rate so far (the engine schedules passes as it goes, so it is the time
left for the slices scheduled so far). `segment` over several inputs adds an overall bar of
cases. The bars are transient: when the run ends only the command's own output remains.
Warnings and logged lines printed meanwhile appear above the bars.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional, TextIO

from rich.console import Console
from rich.progress import (BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn,
                           TimeElapsedColumn)
from rich.text import Text

from medsee_cli.engine.progress import Step

WHOLE_RUN_S = 365 * 24 * 3600.0  # rich's speed window: the whole run, so the rate is "the rate so far"


def wanted(json_output: bool, stream: Optional[TextIO] = None) -> bool:
    """Whether to draw progress: not with ``--json``, and only when ``stream`` (stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not json_output and callable(isatty) and bool(isatty())


class TimeLeft(ProgressColumn):
    """``about 1:23 left`` once a counted stage has a rate; nothing otherwise."""

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if not task.total or left is None:
            return Text("")
        minutes, seconds = divmod(int(left), 60)
        hours, minutes = divmod(minutes, 60)
        clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        return Text(f"about {clock} left", style="progress.remaining")


class ProgressView:
    """The callback a service reports to (`engine.progress.Progress`), drawing on ``bars``."""

    def __init__(self, bars: Optional[Progress], cases: int = 0) -> None:
        self.bars = bars
        self.cases = cases
        self.item = ""
        self.current: Optional[TaskID] = None
        self.overall: Optional[TaskID] = None
        if bars is not None and cases > 1:
            self.overall = bars.add_task("cases", total=cases, count=f"0/{cases} cases")

    def __call__(self, step: Step) -> None:
        bars = self.bars
        if bars is None:
            return
        if self.current is None or (step.item and step.item != self.item):
            if self.current is not None:
                bars.remove_task(self.current)  # a new case: its own bar, its own rate
            self.item = step.item or self.item
            self.current = bars.add_task("", total=None, count="")
        label = f"{self.item}: {step.stage}" if self.item and self.overall is not None else step.stage
        if step.total:
            bars.update(self.current, description=label, total=step.total, completed=step.done,
                        count=f"{step.done}/{step.total} slices")
        else:
            bars.update(self.current, description=label)

    def case_done(self) -> None:
        """One case of a batch ended (done or failed)."""
        if self.bars is None or self.overall is None:
            return
        self.bars.advance(self.overall)
        done = int(self.bars.tasks[self.overall].completed)
        self.bars.update(self.overall, count=f"{done}/{self.cases} cases")


@contextmanager
def progress_view(enabled: bool, cases: int = 0, console: Optional[Console] = None) -> Iterator[ProgressView]:
    """A `ProgressView` drawing on stderr while the block runs (a silent one when not ``enabled``).
    ``cases``: inputs of a batch (more than one adds the overall bar)."""
    if not enabled:
        yield ProgressView(None)
        return
    console = console or Console(stderr=True)
    bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
                    TimeLeft(), TimeElapsedColumn(), console=console, transient=True, speed_estimate_period=WHOLE_RUN_S,
                    redirect_stdout=sys.stdout.isatty(), redirect_stderr=True)
    with bars:
        with _logging_through(sys.stderr):
            yield ProgressView(bars, cases)


@contextmanager
def _logging_through(stream: TextIO) -> Iterator[None]:
    """Logged lines go to ``stream`` (rich's proxy of stderr while the bars are drawn), so they
    print above the bars instead of through them; the handlers get their own stream back after."""
    swapped = []
    for handler in logging.getLogger().handlers:
        if not isinstance(handler, logging.StreamHandler) or handler.stream is not sys.__stderr__:
            continue
        previous = handler.setStream(stream)  # None when it is that stream already
        if previous is not None:
            swapped.append((handler, previous))
    try:
        yield
    finally:
        for handler, previous in swapped:
            handler.setStream(previous)
