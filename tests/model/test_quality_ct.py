"""LiteMedSAM prompted with true organ boxes on a real abdominal CT segments the organs well.

Labels are TotalSegmentator output on data/ct/patient_a (3 mm). DESIGN.md measured 3D Dice
0.93 liver, 0.94 spleen, 0.92 kidneys over all slices with this recipe; here 6 slices
(every 3rd of k = 83..98), the engine's automatic precision (bf16 where the CPU has it natively,
else fp32), one box per connected piece, boxes enlarged 10%.
Measured here: liver 0.954, spleen 0.972, kidney_left 0.949, kidney_right 0.927
(mean predicted IoU 0.90-0.92; pancreas, not asserted, 0.79 with predicted IoU 0.62).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsee_cli.model.boxes import boxes_from_mask
from medsee_cli.model.pretrained import LoadedModel
from medsee_cli.model.segmenter import BoxPromptSegmenter, SegmenterOptions

SLICES = range(83, 99, 3)  # all four organs present on each
ORGANS = ("liver", "spleen", "kidney_left", "kidney_right")
MIN_DICE = 0.85


@pytest.fixture(scope="module")
def results(shared_data: Path, loaded: LoadedModel) -> dict[str, dict[str, float]]:
    import nibabel as nib

    case = shared_data / "ct" / "patient_a"
    ct = nib.load(case / "ct.nii.gz")
    labels = np.asarray(nib.load(case / "labels_total.nii.gz").dataobj)
    names = json.loads((shared_data / "labelmap_total.json").read_text())["total"]
    ids = {name: int(key) for key, name in names.items()}
    from medsee_cli.engine.device import cpu_has_native_bf16

    segmenter = BoxPromptSegmenter(SegmenterOptions(bf16=cpu_has_native_bf16(), modality="CT"), model=loaded.model)
    predicted = {organ: np.zeros(labels.shape, dtype=bool) for organ in ORGANS}
    ious: dict[str, list[float]] = {organ: [] for organ in ORGANS}
    for k in SLICES:
        image = np.asarray(ct.dataobj[:, :, k]).T  # [i, j] -> rows = j, columns = i
        embedding = segmenter.embed(image)
        for organ in ORGANS:
            boxes = boxes_from_mask((labels[:, :, k] == ids[organ]).T, pad_fraction=0.1)
            if len(boxes):
                found = segmenter.segment(embedding, boxes)
                predicted[organ][:, :, k] = found.union().T  # back to [i, j]
                ious[organ].extend(found.predicted_iou.tolist())
    out = {}
    in_slices = np.zeros(labels.shape, dtype=bool)
    in_slices[:, :, list(SLICES)] = True
    for organ in ORGANS:
        truth = (labels == ids[organ]) & in_slices
        overlap = np.logical_and(truth, predicted[organ]).sum()
        out[organ] = {
            "dice": float(2 * overlap / (truth.sum() + predicted[organ].sum())),
            "mean_predicted_iou": float(np.mean(ious[organ])),
        }
    return out


@pytest.mark.parametrize("organ", ORGANS)
def test_box_prompted_dice_is_high(results: dict[str, dict[str, float]], organ: str) -> None:
    dice = results[organ]["dice"]
    assert dice > MIN_DICE, f"{organ}: Dice {dice:.3f} over slices {list(SLICES)}"
    assert results[organ]["mean_predicted_iou"] > 0.8, results[organ]
