"""sample_data/ is what the generator makes, and its DICOM series equals its NIfTI."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medsee_cli.io import load_volume
from medsee_cli.synth.sample import write_sample_data

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_committed_sample_matches_the_generator(tmp_path: Path) -> None:
    write_sample_data(tmp_path)
    for name in ("abdomen_jaundice.nii.gz", "abdomen_jaundice_labels.nii.gz", "abdomen_normal.nii.gz"):
        ours, committed = nib.load(str(tmp_path / name)), nib.load(str(SAMPLE / name))
        np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(committed.dataobj), err_msg=name)
        np.testing.assert_allclose(ours.affine, committed.affine)
    regenerated = sorted(p.name for p in (tmp_path / "abdomen_jaundice_dicom").iterdir())
    assert regenerated == sorted(p.name for p in (SAMPLE / "abdomen_jaundice_dicom").iterdir())


def test_sample_dicom_series_equals_the_nifti() -> None:
    series = load_volume(SAMPLE / "abdomen_jaundice_dicom")
    nifti = load_volume(SAMPLE / "abdomen_jaundice.nii.gz")
    np.testing.assert_array_equal(series.array(), nifti.array())
    np.testing.assert_allclose(series.affine, nifti.affine, atol=1e-4)
    assert series.modality == "CT" and series.refs is not None
    assert series.refs.transfer_syntax_uid == "1.2.840.10008.1.2.4.80"


def test_jaundice_case_has_the_finding_and_normal_does_not() -> None:
    sick = np.asarray(nib.load(str(SAMPLE / "abdomen_jaundice_labels.nii.gz")).dataobj)
    well = np.asarray(nib.load(str(SAMPLE / "abdomen_normal_labels.nii.gz")).dataobj)
    assert (sick == 5).sum() > 100 and (well == 5).sum() == 0  # pancreatic_lesion
    assert (sick == 3).sum() > 3 * (well == 3).sum()  # dilated bile ducts
