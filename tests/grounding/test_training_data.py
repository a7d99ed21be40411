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


def test_phantoms_come_in_every_contrast_phase_and_the_default_is_the_sample_datas() -> None:
    from medsee_cli.synth.phantom import LABEL_ID, PHASES, PhantomOptions, make_phantom, tissue_hu
    from medsee_cli.training.phantoms import random_phantom

    assert PhantomOptions().phase == "portal_venous" and tissue_hu()["kidney"] == 160.0  # `make sample-data` unchanged
    with pytest.raises(ValueError, match="unknown contrast phase"):
        tissue_hu("venous-ish")
    small = dict(shape=(48, 40, 6), spacing=(8.0, 8.0, 8.0), noise_hu=0.0, seed=4)
    plain = make_phantom(PhantomOptions(**small, phase="unenhanced"))
    kidney = plain.labels == LABEL_ID["kidney_left"]
    assert abs(float(plain.hu[kidney].mean()) - tissue_hu("unenhanced")["kidney"]) < 1.0
    jittered = make_phantom(PhantomOptions(**small, phase="unenhanced", hu_jitter=10.0))
    fat = plain.hu == tissue_hu()["fat"]
    assert np.array_equal(jittered.hu[fat], plain.hu[fat])  # fat, air and bone are never moved
    assert 0 < abs(float(jittered.hu[kidney].mean() - plain.hu[kidney].mean())) <= 10.0
    kidneys = []
    for seed in range(200, 212):  # the recipe's training phantoms draw their phase per seed
        phantom, _, _ = random_phantom("normal", seed, 2, PHASES, 15.0)
        kidneys.append(float(np.median(phantom.hu[phantom.labels == LABEL_ID["kidney_right"]])))
    bright = [tissue_hu(p)["kidney"] for p in PHASES]
    assert min(kidneys) < 60 < 140 < max(kidneys)  # unenhanced and enhanced kidneys both seen
    assert all(min(abs(k - b) for b in bright) <= 15.0 + 5 for k in kidneys)
    assert random_phantom("normal", 200, 2)[0].hu.tobytes() == random_phantom("normal", 200, 2, ("portal_venous",))[0].hu.tobytes()


def test_contrast_copies_brighten_labelled_organs_and_vessels_only() -> None:
    from medsee_cli.synth.phantom import tissue_hu
    from medsee_cli.training.contrast import enhance

    names = {1: "kidney_left", 2: "aorta", 3: "inferior_vena_cava", 4: "colon"}
    labels = np.zeros((40, 40, 8), np.int32)
    labels[5:15, 5:15, 1:8], labels[20:26, 20:26, :], labels[30:36, 20:26, :], labels[5:15, 25:38, 2:6] = 1, 2, 3, 4
    hu = np.full(labels.shape, 35.0, np.float32)
    before = hu.copy()
    arterial = enhance(hu, labels, names, "arterial")
    assert np.array_equal(hu, before)  # the source is never changed
    rise = lambda tissue: tissue_hu("arterial")[tissue] - tissue_hu("unenhanced")[tissue]  # noqa: E731
    assert arterial[10, 10, 4] - 35.0 == pytest.approx(rise("kidney"), abs=1.0)
    assert arterial[23, 23, 4] - 35.0 == pytest.approx(rise("aorta"), abs=1.0)
    assert arterial[33, 23, 4] - 35.0 == pytest.approx(rise("vein"), abs=1.0)
    assert arterial[10, 31, 4] == 35.0 and arterial[38, 2, 0] == 35.0  # an unlisted label and the background stay
    edge = arterial[15, 10, 4] - 35.0  # one voxel outside the kidney: blended, not a step
    assert 0.0 < edge < rise("kidney") / 2


def test_a_relative_data_root_is_read_from_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `make train` passes --data ../shared/data: it names a folder beside the project, not beside the recipe
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "labelmap_total.json").write_text(json.dumps({"total": {"1": "spleen"}, "total_mr": {"1": "spleen"}}))
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(shipped_recipe(), Path("data"))
    images = {s.image for s in recipe.sources if s.image is not None}
    assert images and all(p.is_absolute() and p.is_relative_to(tmp_path / "data") for p in images)
    experiment = load_recipe(shipped_recipe().with_name("contrast-phases.yaml"), Path("data"))
    assert {s.contrast for s in experiment.sources} >= {"arterial", "portal_venous", "delayed"}
    assert all(len(s.phases) == 4 and s.hu_jitter == 15.0 for s in experiment.sources if s.kind == "phantom")
    assert all(s.phases == ("portal_venous",) and not s.contrast for s in recipe.sources)  # v1's own data


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
