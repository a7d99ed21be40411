"""The shipped checkpoint on cases it never trained on: the sample jaundice phantom (its seed
and grid were not in training) and held-out slices of a real CT (patient_a slices 86-95, the
same patient as training slices 69-83 and 98-111: not an unseen patient)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from medsee_cli.engine.device import autocast_dtype, running
from medsee_cli.io import load_volume
from medsee_cli.model.grounding import GroundingModel, plane_view
from medsee_cli.model.grounding.pipeline import gate_for, refine_mask
from medsee_cli.reasoning.target_text import open_target_texts
from medsee_cli.training.evaluate import dice

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
LABELS = {"liver": 1, "bile_duct": 3, "pancreas": 4, "pancreatic_lesion": 5}


@pytest.fixture(scope="module")
def shipped() -> GroundingModel:
    return GroundingModel.load("medsee-grounding-v1")


def _find(model: GroundingModel, path: Path, k: int, targets: list[str]) -> dict[str, np.ndarray]:
    """Final masks (on the volume's [i, j] grid) of each target on slice k."""
    volume = load_volume(path)
    view = plane_view(volume.affine)
    plane = np.ascontiguousarray(view.to_display(np.asarray(volume.slab(k, k + 1))[:, :, 0]))
    images, geometries = model.prepare(plane[None], volume.modality if volume.modality == "CT" else "CT")
    with running(torch.device("cpu"), autocast_dtype(torch.device("cpu"), "auto")):  # the engine's precision
        features = model.encode(images)
        grounding = model.ground(features, torch.from_numpy(open_target_texts(model.text_encoder).vectors(targets)))
    found = {}
    for t, target in enumerate(targets):
        logits, _ = refine_mask(model, features, 0, grounding.mask_logits[0, t], float(grounding.presence_logits[0, t]),
                                gate_for(model, target))  # the calibrated gate
        found[target] = view.from_display(model.to_slice(logits, geometries[0]))
    return found


def _truth(path: Path, k: int, label: int | list[int]) -> np.ndarray:
    return np.isin(np.asarray(load_volume(path).slab(k, k + 1))[:, :, 0], label)


def test_finds_the_pancreatic_head_mass_and_dilated_ducts_of_the_jaundice_case(shipped) -> None:
    scan, labels = SAMPLE / "abdomen_jaundice.nii.gz", SAMPLE / "abdomen_jaundice_labels.nii.gz"
    # Measured with the shipped v1: mass Dice 0.61 on slice 34, 0.68 on slice 38, found on slice 37;
    # (slices 35-36, the mass's widest, are missed: the presence gate stays shut there).
    for k, least in ((34, 0.45), (38, 0.5)):
        found = _find(shipped, scan, k, ["pancreatic_lesion"])
        assert dice(found["pancreatic_lesion"], _truth(labels, k, LABELS["pancreatic_lesion"])) > least, k
    found = _find(shipped, scan, 37, ["pancreatic_lesion"])
    assert (found["pancreatic_lesion"] & _truth(labels, 37, LABELS["pancreatic_lesion"])).any()
    found = _find(shipped, scan, 52, ["bile_duct", "pancreatic_lesion"])  # ducts above the mass, no mass
    assert dice(found["bile_duct"], _truth(labels, 52, LABELS["bile_duct"])) > 0.6  # measured 0.81
    assert not found["pancreatic_lesion"].any()


def test_normal_case_pancreas_is_found_and_no_mass_is_reported(shipped) -> None:
    for k in (33, 35, 37, 39):
        found = _find(shipped, SAMPLE / "abdomen_normal.nii.gz", k, ["pancreas", "pancreatic_lesion"])
        assert dice(found["pancreas"], _truth(SAMPLE / "abdomen_normal_labels.nii.gz", k, LABELS["pancreas"])) > 0.8, k
        assert not found["pancreatic_lesion"].any(), k


def test_held_out_real_ct_slices(shipped, shared_data: Path) -> None:
    import json

    scan, labels = shared_data / "ct/patient_a/ct.nii.gz", shared_data / "ct/patient_a/labels_total.nii.gz"
    names = json.loads((shared_data / "labelmap_total.json").read_text())["total"]
    ids = {v: int(k) for k, v in names.items()}
    # Measured with the shipped v1: liver 0.87 (slice 90), aorta 0.97 (slice 88), spleen 0.90 (slice 93).
    found = _find(shipped, scan, 90, ["liver", "brain_tumor"])
    assert dice(found["liver"], _truth(labels, 90, ids["liver"])) > 0.75
    assert not found["brain_tumor"].any()
    found = _find(shipped, scan, 88, ["aorta"])
    assert dice(found["aorta"], _truth(labels, 88, ids["aorta"])) > 0.8
    found = _find(shipped, scan, 93, ["spleen"])
    assert dice(found["spleen"], _truth(labels, 93, ids["spleen"])) > 0.75
