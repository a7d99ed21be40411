"""The shipped checkpoint on cases it never trained on: the sample jaundice phantom (its seed
and grid were not in training) and held-out slices of a real CT (patient_a slices 86-95, the
same patient as training slices 69-83 and 98-111: not an unseen patient)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsee_cli.io import load_volume
from medsee_cli.model.grounding import GroundingModel, plane_view
from medsee_cli.model.grounding.pipeline import refine_mask
from medsee_cli.training.evaluate import dice

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
LABELS = {"liver": 1, "bile_duct": 3, "pancreas": 4, "pancreatic_lesion": 5}


@pytest.fixture(scope="module")
def shipped() -> GroundingModel:
    return GroundingModel.load("medsee-grounding-v0", bf16=True)


def _find(model: GroundingModel, path: Path, k: int, targets: list[str]) -> dict[str, np.ndarray]:
    """Final masks (on the volume's [i, j] grid) of each target on slice k."""
    volume = load_volume(path)
    view = plane_view(volume.affine)
    plane = np.ascontiguousarray(view.to_display(np.asarray(volume.slab(k, k + 1))[:, :, 0]))
    images, geometries = model.prepare(plane[None], volume.modality if volume.modality == "CT" else "CT")
    features = model.encode(images)
    grounding = model.ground(features, model.text_vectors(targets))
    found = {}
    for t, target in enumerate(targets):
        logits, _ = refine_mask(model, features, 0, grounding.mask_logits[0, t], float(grounding.presence_logits[0, t]))
        found[target] = view.from_display(model.to_slice(logits, geometries[0]))
    return found


def _truth(path: Path, k: int, label: int | list[int]) -> np.ndarray:
    return np.isin(np.asarray(load_volume(path).slab(k, k + 1))[:, :, 0], label)


def test_finds_the_pancreatic_head_mass_and_dilated_ducts_of_the_jaundice_case(shipped) -> None:
    scan, labels = SAMPLE / "abdomen_jaundice.nii.gz", SAMPLE / "abdomen_jaundice_labels.nii.gz"
    # Measured with the shipped v0: Dice 0.60 on slice 35, 0.19 on slice 37.
    found = _find(shipped, scan, 35, ["pancreatic_lesion"])
    assert dice(found["pancreatic_lesion"], _truth(labels, 35, LABELS["pancreatic_lesion"])) > 0.4
    found = _find(shipped, scan, 37, ["pancreatic_lesion"])
    assert (found["pancreatic_lesion"] & _truth(labels, 37, LABELS["pancreatic_lesion"])).any()
    found = _find(shipped, scan, 52, ["bile_duct", "pancreatic_lesion"])  # ducts above the mass, no mass
    assert (found["bile_duct"] & _truth(labels, 52, LABELS["bile_duct"])).any()
    assert not found["pancreatic_lesion"].any()


def test_finds_the_pancreas_of_the_normal_case(shipped) -> None:
    for k in (35, 37):
        found = _find(shipped, SAMPLE / "abdomen_normal.nii.gz", k, ["pancreas"])
        assert (found["pancreas"] & _truth(SAMPLE / "abdomen_normal_labels.nii.gz", k, LABELS["pancreas"])).any(), k


@pytest.mark.xfail(strict=True, reason="known v0 failure: on the normal phantom the presence gate opens for "
                   "pancreatic_lesion at the pancreatic head (142 and 81 pixels on slices 35/37); the head does not "
                   "yet tell a normal head from a mass. Remove this mark when a retrained checkpoint passes.")
def test_reports_no_pancreatic_mass_in_the_normal_case(shipped) -> None:
    for k in (35, 37):
        found = _find(shipped, SAMPLE / "abdomen_normal.nii.gz", k, ["pancreatic_lesion"])
        assert not found["pancreatic_lesion"].any(), k


def test_held_out_real_ct_slices(shipped, shared_data: Path) -> None:
    import json

    scan, labels = shared_data / "ct/patient_a/ct.nii.gz", shared_data / "ct/patient_a/labels_total.nii.gz"
    names = json.loads((shared_data / "labelmap_total.json").read_text())["total"]
    ids = {v: int(k) for k, v in names.items()}
    # Measured with the shipped v0: liver 0.62 (slice 90), kidneys 0.66 (slice 93), aorta 0.60 (slice 88).
    found = _find(shipped, scan, 90, ["liver", "brain_tumor"])
    assert dice(found["liver"], _truth(labels, 90, ids["liver"])) > 0.45
    assert not found["brain_tumor"].any()
    found = _find(shipped, scan, 93, ["kidneys"])
    assert dice(found["kidneys"], _truth(labels, 93, [ids["kidney_left"], ids["kidney_right"]])) > 0.45
    found = _find(shipped, scan, 88, ["aorta"])
    assert dice(found["aorta"], _truth(labels, 88, ids["aorta"])) > 0.4
