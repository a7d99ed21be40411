"""Write any loaded dataset as a generic manifest, so other models can predict on the same items.

Each item becomes NIfTI files (3D: the volume and mask on the item's grid and affine; 2D: a
single-slice NIfTI whose array, read back, is the item's ``[row, col]`` image, on an affine that
keeps its orientation) plus one manifest line with the item's id, text, target and case. A 2D
item without orientation gets a diagonal affine and ``"orientation": "unknown"``. Scoring the exported
manifest gives the same numbers as scoring the original dataset. Files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medsee_cli.eval.items import Dataset, plane_affine


def _volume_for(array: np.ndarray, spacing: tuple[float, ...], affine: np.ndarray | None):  # noqa: ANN202
    from medsee_cli.io import Volume

    if array.ndim == 2:  # [row, col] -> stored [i=col, j=row, 1]; read back as `plane_of` it
        stored = plane_affine(affine, 0) if affine is not None else np.diag([spacing[1], spacing[0], 1.0, 1.0])
        return Volume(dataobj=np.ascontiguousarray(array.T[:, :, None]), affine=stored)
    return Volume(dataobj=np.ascontiguousarray(array), affine=affine if affine is not None else np.diag([*spacing, 1.0]))


def export_manifest(dataset: Dataset, out: Path, *, overwrite: bool = False) -> Path:
    """Write ``out/manifest.jsonl`` plus ``out/items/ID_image.nii.gz`` and ``ID_mask.nii.gz``."""
    from medsee_cli.io import write_nifti
    from medsee_cli.io.atomic import write_text_atomic

    lines = []
    for item in dataset.items:
        sample = item.load()
        image = sample.grey()
        names = {kind: f"items/{item.item_id}_{kind}.nii.gz" for kind in ("image", "mask")}
        for kind, array in (("image", image.astype(np.float32)), ("mask", sample.target.astype(np.uint8))):
            write_nifti(_volume_for(array, sample.spacing, sample.affine), out / names[kind], overwrite=overwrite)
        line = {"id": item.item_id, "image": names["image"], "mask": names["mask"], "text": item.text,
                "target": item.target, "case": item.case_id, "ndim": item.ndim}
        if item.ndim == 2 and sample.affine is None:
            line["orientation"] = "unknown"
        if sample.box is not None:
            line["box"] = list(sample.box)
        lines.append(json.dumps(line))
    target = out / "manifest.jsonl"
    write_text_atomic(target, "\n".join(lines) + "\n", overwrite=overwrite)
    return target
