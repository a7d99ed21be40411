"""Write any loaded dataset as a generic manifest, so other models can predict on the same items.

Each item becomes NIfTI files (3D: the volume and mask on a diagonal grid with the item's
spacing; 2D: a single-slice NIfTI whose array, read back, is the item's ``[row, col]`` image)
plus one manifest line with the item's id, text, target and case. Scoring the exported
manifest gives the same numbers as scoring the original dataset. Files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medsee_cli.eval.items import Dataset


def _volume_for(array: np.ndarray, spacing: tuple[float, ...]):  # noqa: ANN202
    from medsee_cli.io import Volume

    if array.ndim == 2:  # [row, col] -> stored [i=col, j=row, 1], spacing (col, row)
        array, spacing = array.T[:, :, None], (spacing[1], spacing[0], 1.0)
    return Volume(dataobj=np.ascontiguousarray(array), affine=np.diag([*spacing, 1.0]))


def export_manifest(dataset: Dataset, out: Path, *, overwrite: bool = False) -> Path:
    """Write ``out/manifest.jsonl`` plus ``out/items/ID_image.nii.gz`` and ``ID_mask.nii.gz``."""
    from medsee_cli.io import write_nifti
    from medsee_cli.io.atomic import write_text_atomic

    lines = []
    for item in dataset.items:
        sample = item.load()
        image = sample.image.mean(axis=-1) if sample.image.ndim == sample.target.ndim + 1 else sample.image
        names = {kind: f"items/{item.item_id}_{kind}.nii.gz" for kind in ("image", "mask")}
        write_nifti(_volume_for(image.astype(np.float32), sample.spacing), out / names["image"], overwrite=overwrite)
        write_nifti(_volume_for(sample.target.astype(np.uint8), sample.spacing), out / names["mask"], overwrite=overwrite)
        line = {"id": item.item_id, "image": names["image"], "mask": names["mask"], "text": item.text,
                "target": item.target, "case": item.case_id, "ndim": item.ndim}
        if sample.box is not None:
            line["box"] = list(sample.box)
        lines.append(json.dumps(line))
    target = out / "manifest.jsonl"
    write_text_atomic(target, "\n".join(lines) + "\n", overwrite=overwrite)
    return target
