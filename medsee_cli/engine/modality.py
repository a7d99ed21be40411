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

ZOOM_SAMPLES = 5  # slices read to tell a zoomed CT field from a whole-body one


def prepare_options(volume: Volume, modality: str, view: PlaneView) -> dict[str, Any]:
    """Extra keyword arguments for ``model.prepare``: the display's pixel size when it is known
    (non-square pixels are put back in proportion), whether a CT's field is a zoomed one that cuts
    through the body (the model may pad it to a whole-body scale; decided once for the volume, on
    a sample of slices in the CT window; other images are never taken as zoomed: an MR's
    intensities do not say what is tissue), and a volume-wide window for images that are neither
    CT (the model's own CT window) nor already 8-bit (passed through as they are)."""
    from medsee_cli.model.preprocess import cuts_body, to_uint8, window_for

    known = volume.pixel_size_known
    options: dict[str, Any] = {"pixel_mm": view.pixel_mm if known else None, "zoomed": False}
    if modality == "CT" and volume.dtype != np.uint8:
        window = window_for("CT")
        options["zoomed"] = known and cuts_body(to_uint8(plane, window) for plane in sample_slices(volume, ZOOM_SAMPLES))
    if modality == "CT" or volume.dtype == np.uint8:
        return options
    return options | {"window": window_for(modality, sample_slices(volume))}
