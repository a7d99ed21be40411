"""`ask` with the shipped checkpoint on the sample phantom: the jaundice question finds the
pancreatic-head mass / dilated duct, and the same question on the normal phantom finds nothing.

The default runs use 6 slices of each phantom around the pancreatic head (the encoder costs
~1-5 s per slice on a shared 2-core CPU); the whole-volume runs are marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.engine.options import EngineOptions
from medsee_cli.io import load_volume, write_nifti
from medsee_cli.io.volume import Volume
from medsee_cli.services.ask import AskOptions, ask
from tests.ask.conftest import SAMPLE

MODEL = "medsee-grounding-v1"
QUESTION = "why is this patient yellow? what is causing the jaundice?"
JAUNDICE_LABELS = {3: "bile_duct", 5: "pancreatic_lesion"}
CPU = EngineOptions(device="cpu")


@pytest.fixture(scope="module")
def real_model() -> str:
    from medsee_cli.model.registry import get_entry, load_registry, locate

    if MODEL not in load_registry():
        pytest.skip(f"{MODEL} is not in the model registry yet (it ships with the model work)")
    try:
        locate(get_entry(MODEL))
    except Exception as exc:  # the registry names it but its files are not installed here
        pytest.skip(f"{MODEL} is not installed here: {exc}")
    return MODEL


def crop(source: Volume, k0: int, k1: int, path) -> Volume:
    affine = source.affine.copy()
    affine[:3, 3] = source.affine[:3, :3] @ np.array([0, 0, k0]) + source.affine[:3, 3]
    write_nifti(Volume(np.asarray(source.dataobj[:, :, k0:k1]), affine, modality="CT"), path)
    return load_volume(path)


def check_found(result, labels: np.ndarray) -> None:
    """At least one jaundice target is found and overlaps its true voxels."""
    found = [f for f in result.findings if f.present and f.target in JAUNDICE_LABELS.values()]
    assert found, result.answer
    overlaps = {}
    for finding in found:
        value = next(v for v, n in JAUNDICE_LABELS.items() if n == finding.target)
        mask = np.zeros(labels.shape, np.uint8)
        finding.region.paint(mask, 1)
        overlaps[finding.target] = int((mask.astype(bool) & (labels == value)).sum())
    assert max(overlaps.values()) > 0, (overlaps, result.answer)
    assert "found" in result.answer


def test_jaundice_question_finds_the_obstruction_around_the_pancreatic_head(real_model, tmp_path):
    image = crop(load_volume(SAMPLE / "abdomen_jaundice.nii.gz"), 33, 39, tmp_path / "jaundice_head.nii.gz")
    labels = np.asarray(load_volume(SAMPLE / "abdomen_jaundice_labels.nii.gz").dataobj)[:, :, 33:39]
    result = ask(image.source, QUESTION, AskOptions(out=tmp_path / "out", model=real_model, engine=CPU))
    check_found(result, labels)
    assert result.to_dict()["outputs"]["mask"]


def test_same_question_on_the_normal_head_reports_no_mass(real_model, tmp_path):
    image = crop(load_volume(SAMPLE / "abdomen_normal.nii.gz"), 33, 39, tmp_path / "normal_head.nii.gz")
    result = ask(image.source, QUESTION, AskOptions(out=tmp_path / "out", model=real_model, engine=CPU))
    lesion = [f for f in result.findings if f.target == "pancreatic_lesion"]
    assert lesion and not lesion[0].present, result.answer
    assert "Pancreatic lesion: not found in this scan" in result.answer


@pytest.mark.slow
def test_whole_jaundice_phantom(real_model, tmp_path):
    labels = np.asarray(load_volume(SAMPLE / "abdomen_jaundice_labels.nii.gz").dataobj)
    result = ask(SAMPLE / "abdomen_jaundice.nii.gz", QUESTION, AskOptions(model=real_model, engine=CPU))
    check_found(result, labels)
    lesion = next(f for f in result.findings if f.target == "pancreatic_lesion")
    mask = np.zeros(labels.shape, np.uint8)
    lesion.region.paint(mask, 1)
    truth = labels == 5
    assert 2 * (mask.astype(bool) & truth).sum() / (mask.sum() + truth.sum()) > 0.4  # measured 0.61 (gap pass on)


@pytest.mark.slow
def test_normal_phantom_says_not_found(real_model):
    result = ask(SAMPLE / "abdomen_normal.nii.gz", QUESTION, AskOptions(model=real_model, engine=CPU))
    lesion = [f for f in result.findings if f.target == "pancreatic_lesion"]
    assert not any(f.present for f in lesion), result.answer
    assert "not found in this scan" in result.answer
