"""Training inputs: target unions, synthetic lesions, manifests, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.training.lesions import LesionSpec, insert_lesions
from medsee_cli.training.recipe import load_recipe, shipped_recipe
from medsee_cli.training.slices import labelled_slices
from medsee_cli.training.targets import label_ids, target_mask


def test_unions_resolve_through_members_for_part_and_whole_label_sets() -> None:
    parts = {10: "lung_upper_lobe_left", 11: "lung_lower_lobe_left", 14: "lung_lower_lobe_right", 2: "kidney_right", 3: "kidney_left"}
    wholes = {10: "lung_left", 11: "lung_right", 19: "vertebrae"}
    assert label_ids("lungs", parts) == [10, 11, 14]
    assert label_ids("lungs", wholes) == [10, 11]
    assert label_ids("kidneys", parts) == [2, 3] and label_ids("kidney_left", parts) == [3]
    assert label_ids("liver", parts) == []
    labels = np.array([[0, 2, 3], [10, 0, 0]])
    assert target_mask(labels, "kidneys", parts).tolist() == [[False, True, True], [False, False, False]]


def test_synthetic_lesions_are_hypodense_inside_the_organ_and_leave_the_input_alone() -> None:
    labels = np.zeros((40, 40, 20), np.int32)
    labels[5:35, 5:35, 3:17] = 5  # a box-shaped "liver"
    hu = np.full(labels.shape, 60.0, np.float32)
    before = hu.copy()
    new_hu, lesion = insert_lesions(hu, labels, (1.5, 1.5, 3.0), LesionSpec("liver_lesion", (5,), count=2), np.random.default_rng(3))
    assert np.array_equal(hu, before)
    assert lesion.any() and not (lesion & (labels != 5)).any()
    assert new_hu[lesion].mean() < 60.0 - 15.0
    assert np.array_equal(new_hu[labels == 0], hu[labels == 0])


def test_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("targets: [liver]\nsources:\n  - name: x\n    image: a.nii.gz\n")
    with pytest.raises(InputError, match="needs image and labels"):
        load_recipe(bad)
    with pytest.raises(InputError, match="data root"):
        load_recipe(shipped_recipe())


def _tiny_case(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    hu = rng.normal(-80, 10, (48, 40, 4)).astype(np.float32)
    labels = np.zeros(hu.shape, np.uint8)
    labels[10:30, 8:26, 1:3] = 1
    hu[labels == 1] = 60.0
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    nib.save(nib.Nifti1Image(hu, affine), folder / "ct.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), folder / "labels.nii.gz")
    manifest = {"targets": ["liver", "spleen"],
                "sources": [{"name": "case", "image": "ct.nii.gz", "labels": "labels.nii.gz", "label_names": {1: "liver"},
                             "modality": "CT", "absent": ["spleen"]},
                            {"name": "held", "role": "holdout", "image": "ct.nii.gz", "labels": "labels.nii.gz",
                             "label_names": {1: "liver"}, "slices": [[1, 2, 1]]},
                            {"name": "cal", "role": "calibration", "image": "ct.nii.gz", "labels": "labels.nii.gz",
                             "label_names": {1: "liver"}}]}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_labelled_slices_know_presence_and_absence(tmp_path: Path) -> None:
    recipe = load_recipe(_tiny_case(tmp_path))
    slices = list(labelled_slices(recipe.sources[0], list(recipe.targets)))
    assert [s.index for s in slices] == [0, 1, 2, 3]
    assert "liver" in slices[1].masks and "liver" in slices[0].negatives and "spleen" in slices[1].negatives
    assert slices[1].image.dtype == np.uint8 and slices[1].image.shape == (40, 48)  # display: rows = j, cols = i


def test_train_run_writes_a_loadable_model_folder(tmp_path: Path, random_base) -> None:
    from medsee_cli.model.grounding import GroundingModel
    from medsee_cli.training.loop import TrainOptions
    from medsee_cli.training.run import RunOptions, run_training
    from tests.grounding.conftest import TINY

    manifest = _tiny_case(tmp_path)
    options = RunOptions(manifest=manifest, out=tmp_path / "model", cache=tmp_path / "cache",
                         train=TrainOptions(minutes=1.0, max_steps=3, batch_size=4, log_every=1))
    result = run_training(options, base=random_base, config=TINY)
    assert result.report.steps == 3
    summary = json.loads((tmp_path / "model" / "training.json").read_text())
    assert summary["steps"] == 3 and {s["name"] for s in summary["sources"]} == {"case", "held", "cal"}
    assert summary["holdout"] and summary["holdout"][0]["target"] == "liver"
    # The calibration source has liver on slices 1-2 and not on 0 and 3: liver gets its own gate.
    assert [c["target"] for c in summary["calibration"]] == ["liver"]
    assert summary["calibration"][0]["positives"] == 2 and summary["calibration"][0]["negatives"] == 2
    loaded = GroundingModel.from_pretrained(tmp_path / "model", base=random_base)
    assert loaded.config.trained_targets == ("liver", "spleen")
    assert loaded.config.presence_logit("liver") == summary["calibration"][0]["threshold_logit"]
    assert loaded.config.presence_logit("spleen") == loaded.config.presence_threshold
    assert list((tmp_path / "cache").glob("case-*.safetensors"))  # features cached for the next run
