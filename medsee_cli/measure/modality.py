"""What kind of image a volume is: the one modality decision of a run.

A volume's own modality stands (DICOM says it). One labelled ``OT`` (NIfTI, NRRD: no modality
in the file) whose sampled values reach air (-900 or below) and tissue (above 0) is CT in
Hounsfield units. The engine decides once per run and carries the answer to the measurements,
``boxes.json`` (the ``HU`` unit) and the preview (the CT window).
"""

from __future__ import annotations

import numpy as np

from medsee_cli.io.volume import Volume

AIR_HU = -900.0
SAMPLE_SLICES = 16


def sample_slices(volume: Volume, count: int = SAMPLE_SLICES) -> np.ndarray:
    """``count`` slices spread evenly over the volume, stacked ``(n, I, J)``."""
    depth = volume.spatial_shape[2]
    picks = np.unique(np.linspace(0, depth - 1, num=min(count, depth)).round().astype(int))
    return np.stack([volume.slab(int(k), int(k) + 1)[:, :, 0] for k in picks])


def effective_modality(volume: Volume) -> str:
    """``CT``, ``MR``, ... : the volume's modality, or CT for an unlabelled image in Hounsfield units."""
    modality = (volume.modality or "OT").upper()
    if modality not in ("OT", ""):
        return modality
    if volume.dtype.kind not in "iuf":
        return modality
    sample = sample_slices(volume, 5)
    return "CT" if float(np.nanmin(sample)) <= AIR_HU and float(np.nanmax(sample)) > 0 else modality
