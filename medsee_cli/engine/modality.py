"""What kind of image a volume is for windowing, and one intensity window for a whole volume.

NIfTI files carry no modality; a volume labelled ``OT`` whose values reach air (about -1000)
is treated as CT (Hounsfield units). Other modalities get one window from percentiles of a
sample of slices, so every slice of a volume is windowed alike (never a full float copy).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from medsee_cli.io.volume import Volume

AIR_HU = -900.0
SAMPLE_SLICES = 16


def sample_slices(volume: Volume, count: int = SAMPLE_SLICES) -> np.ndarray:
    depth = volume.spatial_shape[2]
    picks = np.unique(np.linspace(0, depth - 1, num=min(count, depth)).round().astype(int))
    return np.stack([volume.slab(int(k), int(k) + 1)[:, :, 0] for k in picks])


def effective_modality(volume: Volume) -> str:
    modality = (volume.modality or "OT").upper()
    if modality not in ("OT", ""):
        return modality
    if volume.dtype.kind not in "iuf":
        return modality
    sample = sample_slices(volume, 5)
    return "CT" if float(np.nanmin(sample)) <= AIR_HU and float(np.nanmax(sample)) > 0 else modality


def prepare_options(model: Any, volume: Volume, modality: str) -> dict[str, Any]:
    """Extra keyword arguments for ``model.prepare``: a volume-wide window for non-CT images."""
    if modality == "CT" or volume.dtype == np.uint8:
        return {}
    try:
        accepts = "window" in inspect.signature(model.prepare).parameters
    except (TypeError, ValueError):
        accepts = False
    if not accepts:
        return {}
    from medsee_cli.model.preprocess import window_for

    return {"window": window_for(modality, sample_slices(volume))}
