"""MedSAM outputs: the npz files of MedSAM and of the CVPR 2024 challenge "Segment Anything in
Medical Images on Laptop" (key ``segs``)::

    DIR/ITEM_ID.npz     one item's prediction: non-zero = the target
    DIR/CASE.npz        a case's prediction, one value per prompt box; DIR/CASE.json or
                        DIR/labels.json names the values: {"liver": 1, "kidney_left": 2}

``segs`` is ``[z, y, x]`` for a volume (SimpleITK's array order; read as ``[i, j, k]``) and
``[row, col]`` for a 2D image. npz files hold no affine: the shape must match the item's grid.
A file named by an item id that is also its case id is read as the case's label map when a
label JSON names its values, else as the item's mask.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.adapters.cache import LastOne
from medsee_cli.eval.adapters.files import first_file, names_of, whole_numbers
from medsee_cli.eval.adapters.grid import CaseGrid, on_item_grid
from medsee_cli.eval.adapters.label_map import mask_of, values_for
from medsee_cli.eval.adapters.label_names import LabelNames, find_label_names
from medsee_cli.eval.predictions import FolderSource
from medsee_cli.eval.items import EvalItem, Sample, safe_id
from medsee_cli.eval.predictor import Prediction

KEY = "segs"
NPZ = (".npz",)


def read_segs(path: Path) -> CaseGrid:
    """The ``segs`` array of a MedSAM npz as ``[i, j, k]`` (3D) or ``[row, col]`` (2D)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(str(path), f"not a readable npz file ({exc.__class__.__name__})") from exc
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise InputError(str(path), "a .npy array, not an npz archive")
    with loaded as npz:
        if KEY not in npz.files:
            raise InputError(str(path), f"no {KEY!r} array in this npz (it holds: {', '.join(npz.files) or 'nothing'})")
        try:
            segs = np.asarray(npz[KEY])
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise InputError(str(path), f"its {KEY!r} array cannot be read ({exc.__class__.__name__})") from exc
    if segs.ndim == 3:
        segs = segs.transpose(2, 1, 0)
    elif segs.ndim != 2:
        raise InputError(str(path), f"'{KEY}' must be 2D [row, col] or 3D [z, y, x], found shape {segs.shape}")
    return CaseGrid(array=whole_numbers(segs, path), affine=None, path=path)


class MedSAMOutput(FolderSource):
    """A `PredictionSource` over a folder of MedSAM npz outputs."""

    tool = "medsam"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._grid: LastOne[CaseGrid] = LastOne()
        self._names: LastOne[tuple[Path, LabelNames] | None] = LastOne()

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        cases = names_of(item)
        items = tuple(dict.fromkeys((item.item_id, safe_id(item.item_id))))
        per_item = first_file(self.folder, [s for s in items if s not in cases], NPZ)
        if per_item is not None:
            return Prediction(mask=self._nonzero(per_item, item, sample))
        per_case = first_file(self.folder, cases, NPZ)
        if per_case is None:
            return Prediction(mask=None, missing=True)
        candidates = [self.folder / f"{stem}.json" for stem in cases] + [self.folder / "labels.json"]
        found = self._names.get(tuple(candidates), lambda: find_label_names(candidates))
        if found is None:
            if per_case.name[: -len(".npz")] in items:
                return Prediction(mask=self._nonzero(per_case, item, sample))
            raise InputError(str(per_case), "MedSAM's values are prompt-box numbers, not classes: name them in "
                                            f"{cases[0]}.json or labels.json beside it, e.g. {{\"liver\": 1}}")
        values = values_for(self.tool, item.target, found[1], per_case)
        grid = self._grid.get(per_case, lambda: read_segs(per_case))
        return Prediction(mask=mask_of(grid, values, item, sample))

    def _nonzero(self, path: Path, item: EvalItem, sample: Sample) -> np.ndarray:
        grid = self._grid.get(path, lambda: read_segs(path))
        return np.asarray(on_item_grid(grid, item, sample) != 0)
