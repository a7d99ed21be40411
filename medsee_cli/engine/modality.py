"""The engine's use of the run's modality decision: one intensity window for a whole volume.

The decision itself (`effective_modality`: a NIfTI holding HU counts as CT) lives in
`medsee_cli.measure.modality`, below the engine and the writers; the engine makes it once per
run (`SliceEngine.run`, reported as ``EngineRun.modality``). Non-CT images get one window from
percentiles of a sample of slices, so every slice of a volume is windowed alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medsee_cli.io.plane_view import PlaneView
from medsee_cli.io.volume import Volume
from medsee_cli.measure.modality import sample_slices


def prepare_options(volume: Volume, modality: str, view: PlaneView) -> dict[str, Any]:
    """Extra keyword arguments for ``model.prepare``: the display's pixel size (non-square pixels
    are put back in proportion), and a volume-wide window for images that are neither CT (the
    model's own CT window) nor already 8-bit (passed through as they are)."""
    options: dict[str, Any] = {"pixel_mm": view.pixel_mm}
    if modality == "CT" or volume.dtype == np.uint8:
        return options
    from medsee_cli.model.preprocess import window_for

    return options | {"window": window_for(modality, sample_slices(volume))}
