"""nnU-Net predictions, read as ``nnUNetv2_predict -o DIR`` writes them (CASE = the item's case id)::

    DIR/CASE.nii.gz     one label map per case; the suffix is dataset.json's "file_ending" when it
                        has one (.nii.gz, .nrrd, .mha, .png for 2D), else any of those
    DIR/dataset.json    names the labels: v2 {"labels": {"background": 0, "liver": 1}} (a list of
                        values is a region), or v1 {"labels": {"0": "background", "1": "liver"}}

nnUNetv2_predict copies the model's dataset.json into DIR; for nnU-Net v1, copy it there.
"""

from __future__ import annotations

import json
from pathlib import Path

from medsee_cli.errors import InputError
from medsee_cli.eval.adapters.cache import LastOne
from medsee_cli.eval.adapters.files import PICTURE_SUFFIXES, VOLUME_SUFFIXES, first_file, names_of, read_label_grid
from medsee_cli.eval.adapters.grid import CaseGrid
from medsee_cli.eval.adapters.label_map import mask_of, values_for
from medsee_cli.eval.adapters.label_names import LabelNames, parse_label_names
from medsee_cli.eval.predictions import FolderSource
from medsee_cli.eval.items import EvalItem, Sample
from medsee_cli.eval.predictor import Prediction

DATASET_JSON = "dataset.json"


def read_dataset_json(path: Path) -> tuple[str | None, LabelNames] | None:
    """(file ending, label names) from an nnU-Net dataset.json; None when there is none."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not a readable dataset.json ({exc})") from exc
    ending = data.get("file_ending") if isinstance(data, dict) else None
    if ending is not None and not isinstance(ending, str):
        raise InputError(str(path), f"'file_ending' must be a string, found {ending!r}")
    return ending, parse_label_names(data, path)


class NnUNetOutput(FolderSource):
    """A `PredictionSource` over an nnU-Net predictions folder."""

    tool = "nnunet"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._dataset: LastOne[tuple[str | None, LabelNames] | None] = LastOne()
        self._grid: LastOne[CaseGrid] = LastOne()

    def prediction_for(self, item: EvalItem, sample: Sample) -> Prediction:
        dataset_json = self.folder / DATASET_JSON
        dataset = self._dataset.get(dataset_json, lambda: read_dataset_json(dataset_json))
        ending = dataset[0] if dataset is not None else None
        path = first_file(self.folder, names_of(item), (ending,) if ending else VOLUME_SUFFIXES + PICTURE_SUFFIXES)
        if path is None:
            return Prediction(mask=None, missing=True)
        if dataset is None:
            raise InputError(str(dataset_json), "no dataset.json in the nnU-Net predictions folder: it names the "
                                                "labels (nnUNetv2_predict writes it there; else copy the model's)")
        values = values_for(self.tool, item.target, dataset[1], path)
        grid = self._grid.get(path, lambda: read_label_grid(path))
        return Prediction(mask=mask_of(grid, values, item, sample))
