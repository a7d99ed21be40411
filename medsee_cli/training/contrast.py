"""Contrast-phase copies of a real, unenhanced CT: its labelled organs and vessels brightened as
an injected scan would show them, so the head sees real anatomy in more than one phase.

Each labelled tissue (`contrast.yaml`: label names per tissue) gains the difference between its
mean HU in the wanted phase and unenhanced (`synth/phases.yaml`), blended over about a voxel at
its edge so no step outlines the label. The rest of the scan is left as it was. A first model of
enhancement: homogeneous, no cortex/medulla pattern, no partial filling of veins.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from scipy import ndimage

from medsee_cli.synth.phantom import tissue_hu

UNENHANCED = "unenhanced"
EDGE_SIGMA_VOXELS = 0.7


@lru_cache(maxsize=1)
def label_tissues() -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(resources.files(__package__).joinpath("contrast.yaml").read_text())
    return {str(tissue): tuple(str(n) for n in names) for tissue, names in raw.items()}


def enhance(hu: np.ndarray, labels: np.ndarray, names: dict[int, str], phase: str) -> np.ndarray:
    """``hu`` (an unenhanced CT) as it would look in ``phase``; a new array, the input untouched."""
    before, after = tissue_hu(UNENHANCED), tissue_hu(phase)
    by_name = {name: value for value, name in names.items()}
    gain = np.zeros(hu.shape, dtype=np.float32)
    for tissue, label_names in label_tissues().items():
        ids = [by_name[n] for n in label_names if n in by_name]
        delta = after[tissue] - before[tissue]
        if not ids or delta == 0:
            continue
        soft = ndimage.gaussian_filter(np.isin(labels, ids).astype(np.float32), EDGE_SIGMA_VOXELS)
        gain += soft * delta
    return np.asarray(hu, dtype=np.float32) + gain
