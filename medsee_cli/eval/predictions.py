"""Scoring another model's saved outputs: the predictions folder layout.

For each item id (see the per-item CSV, or the dataset's docs) the folder holds either flat
files or one sub-folder, the layout `medsee segment --out` writes per case::

    DIR/ID.png | ID.nii.gz | ID.nii | ID.nrrd | ID.npy      mask (non-zero = target)
    DIR/ID.json                                             {"box": [...], "normalized": false}
  or
    DIR/ID/mask.png | mask.nii.gz | ...                     mask
    DIR/ID/boxes.json                                       {"box": [...]} or {"boxes": [{"box": [...]}, ...]}

2D masks are ``[row, col]`` images on the item's grid; 3D masks are volumes on the item's grid
(same shape). Boxes are pixel-edge ``[x0, y0, x1, y1]`` (2D) or ``[i0, j0, k0, i1, j1, k1]``
(3D); ``"normalized": true`` marks MediSee-style ``[x0/W, y0/H, x1/W, y1/H]``. Without a box
the box is taken from the mask. An item with neither file is scored as an empty prediction
and counted as missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.imaging import mask_from, read_mask, read_volume
from medsee_cli.eval.items import EvalItem, Sample
from medsee_cli.eval.predictor import Prediction

MASK_SUFFIXES = (".png", ".nii.gz", ".nii", ".nrrd", ".mha", ".npy")


class FolderSource:
    """What every predictions layout shares: its folder, and how it names itself in reports."""

    tool = ""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise InputError(str(folder), "predictions folder not found")
        self.folder = folder

    def identity(self) -> dict[str, Any]:
        """The predictions scored, for the report's provenance: layout, folder, file count and hash."""
        from medsee_cli.eval.provenance import folder_sha256

        files, digest = folder_sha256(self.folder)
        return {"kind": "predictions", "adapter": self.tool, "folder": str(self.folder), "files": files, "sha256": digest}


class SavedPredictions(FolderSource):
    """A `PredictionSource` reading masks and boxes from a folder in medsee's own layout."""

    tool = "medsee"

    def _first(self, candidates: list[Path]) -> Path | None:
        return next((p for p in candidates if p.is_file()), None)

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        flat = [self.folder / f"{item.item_id}{s}" for s in MASK_SUFFIXES]
        nested = [self.folder / item.item_id / f"mask{s}" for s in MASK_SUFFIXES]
        mask_path = self._first(flat + nested)
        box_path = self._first([self.folder / f"{item.item_id}.json", self.folder / item.item_id / "boxes.json",
                                self.folder / item.item_id / "box.json"])
        if mask_path is None and box_path is None:
            return Prediction(mask=None, box=None, missing=True)
        mask = self._read_mask(mask_path, sample) if mask_path is not None else None
        box = self._read_box(box_path, sample) if box_path is not None else None
        return Prediction(mask=mask, box=box)

    def _read_mask(self, path: Path, sample: Sample) -> np.ndarray:
        expected = sample.target.shape
        name = path.name.lower()
        if len(expected) == 2:
            if name.endswith((".nrrd", ".mha")):  # a one-slice volume, stored [i, j, 1]
                mask = mask_from(read_volume(path)[0][:, :, 0].T, path)
            else:
                mask = read_mask(path)
        else:
            mask = mask_from(np.load(path, allow_pickle=False) if path.name.endswith(".npy") else read_volume(path)[0], path)
        if mask.shape != expected:
            raise InputError(str(path), f"mask shape {mask.shape} differs from the item's grid {expected}")
        return mask

    def _read_box(self, path: Path, sample: Sample) -> tuple[float, ...] | None:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(str(path), f"not a readable box JSON ({exc})") from exc
        if isinstance(data, dict) and "boxes" in data:
            boxes = data["boxes"] or []
            data = {**(boxes[0] if boxes else {}), "normalized": data.get("normalized", False)}
        box = data.get("box") if isinstance(data, dict) else None
        if box is None:
            return None
        ndim = sample.target.ndim
        if not isinstance(box, list) or len(box) != 2 * ndim:
            raise InputError(str(path), f"'box' must hold {2 * ndim} numbers for a {ndim}D item")
        values = tuple(float(v) for v in box)
        if data.get("normalized"):
            if ndim != 2:
                raise InputError(str(path), "normalized boxes are only defined for 2D items")
            height, width = sample.target.shape
            values = (values[0] * width, values[1] * height, values[2] * width, values[3] * height)
        return values
