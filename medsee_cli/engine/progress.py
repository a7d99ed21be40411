"""Progress of a long run, reported through one small callback; how it is shown is the caller's.

A run calls ``progress(Step(...))`` when a stage begins and, while the engine streams a volume,
once per batch of slices. A `Step` carries the stage, the slices done and the slices scheduled
so far in this volume (the engine schedules its passes as it goes: the coarse pass first, then
the neighbours of plausible slices, then short gaps, so ``total`` can grow). ``item`` names the
case a batch works on (`segment`); it is set on the step that starts the case.

Stages, in order: reading the image, reasoning about the question, loading the model, locating
(the engine's coarse pass over every ``skip_stride``-th slice), outlining (the passes around
plausible slices and over short gaps, where targets are refined and kept), writing the files.
Nothing here draws anything: the command line renders steps with rich on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

READING = "reading"
REASONING = "reasoning"
LOADING = "loading the model"
LOCATING = "locating"
OUTLINING = "outlining"
WRITING = "writing"
STAGES = (READING, REASONING, LOADING, LOCATING, OUTLINING, WRITING)


@dataclass(frozen=True)
class Step:
    """``stage`` (one of `STAGES`); ``done``/``total``: slices run / scheduled so far in this
    volume (``total`` 0: the stage is not counted in slices); ``item``: the case it starts."""

    stage: str
    done: int = 0
    total: int = 0
    item: str = ""


Progress = Callable[[Step], None]


def silent(step: Step) -> None:
    """The progress callback that reports nothing (the default)."""


class SliceCounter:
    """Slices done and scheduled over one volume's passes, each change reported as a `Step`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stage = LOCATING
        self.done = 0
        self.total = 0

    def plan(self, stage: str, count: int) -> None:
        """A pass of ``count`` slices begins."""
        self.stage = stage
        self.total += count
        self.progress(Step(stage, self.done, self.total))

    def advance(self, count: int) -> None:
        """``count`` more slices were run."""
        self.done += count
        self.progress(Step(self.stage, self.done, self.total))
