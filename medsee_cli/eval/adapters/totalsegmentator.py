"""TotalSegmentator's output, read as it writes it (CASE = the item's case id)::

    DIR/CASE/<class>.nii.gz   its default output (``TotalSegmentator -i CT -o DIR/CASE``): one mask per class
    DIR/CASE.nii.gz           its multilabel file (``--ml``); the values are named by DIR/CASE.json,
                              DIR/labels.json or DIR/dataset.json ({"1": "spleen", ...} as TotalSegmentator
                              numbers its classes, or nnU-Net's {"labels": {"spleen": 1, ...}})

A target is the union of the classes ``targets.yaml`` gives it (``kidneys`` = ``kidney_left`` +
``kidney_right``). Masks stay on the input image's grid, as TotalSegmentator writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.adapters.cache import LastOne
from medsee_cli.eval.adapters.files import first_file, first_folder, names_of, read_label_grid, stem_of
from medsee_cli.eval.adapters.grid import CaseGrid, on_item_grid
from medsee_cli.eval.adapters.label_map import mask_of, values_for
from medsee_cli.eval.adapters.label_names import LabelNames, find_label_names
from medsee_cli.eval.predictions import FolderSource
from medsee_cli.eval.adapters.targets import classes_for
from medsee_cli.eval.items import EvalItem, Sample
from medsee_cli.eval.predictor import Prediction

NIFTI = (".nii.gz", ".nii")
NAME_FILES = ("labels.json", "dataset.json")


def class_files(case_dir: Path) -> dict[str, Path]:
    """``{class: file}`` of one case folder of per-class masks."""
    try:
        files = {stem_of(p): p for p in sorted(case_dir.iterdir()) if p.name.lower().endswith(NIFTI) and p.is_file()}
    except OSError as exc:
        raise InputError(str(case_dir), f"the case folder cannot be read ({exc.strerror or exc})") from exc
    if not files:
        raise InputError(str(case_dir), "no <class>.nii.gz masks in this TotalSegmentator case folder")
    return files


def union_of(paths: tuple[Path, ...], case_dir: Path) -> CaseGrid:
    """The union of per-class masks, which must share one grid."""
    first = read_label_grid(paths[0])
    union = np.asarray(first.array != 0)
    for path in paths[1:]:
        grid = read_label_grid(path)
        if grid.array.shape != union.shape or not np.allclose(np.asarray(grid.affine), np.asarray(first.affine), atol=1e-4):
            raise InputError(str(path), f"its grid differs from {paths[0].name}'s in the same case folder")
        union |= grid.array != 0
    return CaseGrid(array=union, affine=first.affine, path=paths[0] if len(paths) == 1 else case_dir)


class TotalSegmentatorOutput(FolderSource):
    """A `PredictionSource` over a folder of TotalSegmentator outputs, one per case."""

    tool = "totalsegmentator"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._listing: LastOne[dict[str, Path]] = LastOne()
        self._grid: LastOne[CaseGrid] = LastOne()
        self._names: LastOne[tuple[Path, LabelNames] | None] = LastOne()

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        stems = names_of(item)
        case_dir = first_folder(self.folder, stems)
        if case_dir is not None:
            return Prediction(mask=self._from_class_files(case_dir, item, sample))
        label_map = first_file(self.folder, stems, NIFTI)
        if label_map is not None:
            return Prediction(mask=self._from_label_map(label_map, item, sample))
        return Prediction(mask=None, missing=True)

    def _from_class_files(self, case_dir: Path, item: EvalItem, sample: Sample) -> np.ndarray:
        files = self._listing.get(case_dir, lambda: class_files(case_dir))
        paths = tuple(files[name] for name in classes_for(self.tool, item.target, files, str(case_dir)))
        grid = self._grid.get(paths, lambda: union_of(paths, case_dir))
        return np.asarray(on_item_grid(grid, item, sample) != 0)

    def _from_label_map(self, path: Path, item: EvalItem, sample: Sample) -> np.ndarray:
        candidates = [self.folder / f"{stem}.json" for stem in names_of(item)] + [self.folder / n for n in NAME_FILES]
        found = self._names.get(tuple(candidates), lambda: find_label_names(candidates))
        if found is None:
            raise InputError(str(path), "no label names for this multilabel file: put labels.json "
                                        "({\"1\": \"spleen\", ...}) or an nnU-Net dataset.json beside it")
        values = values_for(self.tool, item.target, found[1], path)
        grid = self._grid.get(path, lambda: read_label_grid(path))
        return mask_of(grid, values, item, sample)
