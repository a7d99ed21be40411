"""Engine flags that `ask` and `segment` share, defined once (`EngineOptions` holds their meaning)."""

from __future__ import annotations

from typing import Annotated

import typer

ReadSpacing = Annotated[float, typer.Option(
    "--read-spacing", min=0.0, metavar="MM",
    help="Read slices at most this many mm apart (every n-th slice of a thin-slice series); the slices "
         "between are drawn by shape interpolation. 0 reads every slice.")]

Bridge = Annotated[float, typer.Option(
    "--bridge", min=0.0, metavar="MM",
    help="On thin slices read sparsely: two read slices at most this many mm apart whose outlines agree "
         "(Dice >= 0.8) are bridged, the read slices between drawn instead of run. 0 runs every read slice.")]
