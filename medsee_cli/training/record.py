"""The training record's ``seen`` section: which real slices a checkpoint learnt from.

For every real volume a recipe trains or calibrates on, `training.json` lists the slice indices
used and two sets of slice fingerprints (`medsee_cli.io.fingerprint`): those slices
(``trained``) and every slice of that volume (``volume``: the patient). `medsee eval` reads it
to mark items the model was trained on, and items from patients it saw, on any dataset layout.
Synthetic phantoms are generated from seeds and listed by name only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medsee_cli.training.recipe import Recipe, SourceSpec

SEEN_ROLES = ("train", "calibration")


def _shown_path(path: Path, data_root: Path | None) -> str:
    """A path relative to the data folder (no machine-specific prefix in the record)."""
    if data_root is not None:
        try:
            return path.resolve().relative_to(data_root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def seen_volumes(recipe: Recipe, data_root: Path | None) -> list[dict[str, Any]]:
    """One entry per real image file the recipe trains or calibrates on (sources sharing a file merge)."""
    from medsee_cli.io import load_volume
    from medsee_cli.io.fingerprint import slice_fingerprint, volume_fingerprints
    from medsee_cli.training.slices import selected_slices

    by_image: dict[Path, list[SourceSpec]] = {}
    synthetic: list[str] = []
    for spec in recipe.sources:
        if spec.role not in SEEN_ROLES:
            continue
        if spec.image is None:
            synthetic.append(spec.name)
        else:
            by_image.setdefault(spec.image, []).append(spec)
    entries: list[dict[str, Any]] = []
    for image, specs in by_image.items():
        array = np.asarray(load_volume(image).array(), dtype=np.float32)
        if array.ndim == 4:
            array = array[..., 0]
        picked = sorted({int(k) for spec in specs for k in selected_slices(spec.slices, array.shape[2])})
        trained = [slice_fingerprint(array[:, :, k]) for k in picked]
        entries.append({
            "image": _shown_path(image, data_root),
            "sources": [spec.name for spec in specs],
            "roles": sorted({spec.role for spec in specs}),
            "slices": picked,
            "trained": sorted({f for f in trained if f}),
            "volume": sorted({f for f in volume_fingerprints(array) if f}),
        })
    if synthetic:
        entries.append({"synthetic": synthetic})
    return entries
