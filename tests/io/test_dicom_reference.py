"""DICOM geometry and voxels against dcm2niix: its reference NIfTI files and a live run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.io import load_volume
from medsee_cli.io.dicom.reader import read_dicom_volume
from tests.conftest import require_tool
from tests.io.dicom_helpers import assert_same_image

REFERENCES = [
    ("dcm_qa_frag/In/5001_anat-T1w_acq-tfl", "dcm_qa_frag/Ref/anat-T1w_acq-tfl_5001.nii"),  # JPEG lossless, fragments
    ("dcm_qa_frag/In/6001_anat-T1w_acq-tfl", "dcm_qa_frag/Ref/anat-T1w_acq-tfl_6001.nii"),  # JPEG 2000, fragments
    ("dcm_qa_ge/In/01_Ax_DWI_TENSOR_R2", "dcm_qa_ge/Ref/Ax_DWI_TENSOR_R2_1.nii"),  # 4D DWI, extension-less names
    ("dcm_qa_enh/In/Siemens/XA10", "dcm_qa_enh/Ref/Siemens_REST1_w_SMS_PF7-8_6.nii"),  # enhanced, 4 files x 6 frames
]


@pytest.mark.parametrize(("source", "reference"), REFERENCES, ids=[r[0].split("/")[0] + "-" + r[1][-8:-4] for r in REFERENCES])
def test_series_match_reference_nifti(shared_data: Path, source: str, reference: str) -> None:
    vol = load_volume(shared_data / "dicom" / source)
    assert vol.refs is not None and len(vol.refs.slices) == vol.spatial_shape[2] * vol.n_volumes
    assert_same_image(vol, nib.load(str(shared_data / "dicom" / reference)))


@pytest.mark.parametrize("number", range(1, 10))
def test_mosaic_in_every_transfer_syntax_matches_reference(shared_data: Path, number: int) -> None:
    vol = load_volume(shared_data / f"dicom/dcm_qa_ts/In/{number}.dcm")
    assert_same_image(vol, nib.load(str(shared_data / f"dicom/dcm_qa_ts/Ref/{number}.nii")))


def test_enhanced_philips_splits_magnitude_and_field_map(shared_data: Path) -> None:
    path = shared_data / "dicom/dcm_qa_enh/In/Philips"
    with pytest.raises(Exception, match="holds 2 series"):
        load_volume(path)
    from medsee_cli.io.dicom.discover import find_candidates, scan_headers
    from medsee_cli.io.dicom.reader import plan_to_volume
    from medsee_cli.io.dicom.series import assemble

    candidates, _ = find_candidates([path])
    plans = assemble(list(scan_headers(candidates.dicom).headers)).plans
    kinds = {p.first.image_type[3]: plan_to_volume(p) for p in plans}
    assert set(kinds) == {"M", "FIELD_MAP"}
    ref = shared_data / "dicom/dcm_qa_enh/Ref"
    # dcm2niix scales Philips data with the private MRScaleSlope ("precise values"); medsee applies
    # the standard RescaleSlope/Intercept. Geometry must agree exactly, voxels up to that linear map.
    for kind, name in (("M", "Philips_WIP_B0_NS_801_e1.nii"), ("FIELD_MAP", "Philips_WIP_B0_NS_801_e2_fieldmaphz.nii")):
        ours = nib.as_closest_canonical(nib.Nifti1Image(kinds[kind].array(), kinds[kind].affine))
        theirs = nib.as_closest_canonical(nib.load(str(ref / name)))
        assert ours.shape == theirs.shape
        assert abs(ours.affine - theirs.affine).max() < 0.05
        a, b = np.asarray(ours.dataobj, dtype=np.float64).ravel(), theirs.get_fdata().ravel()
        assert np.corrcoef(a, b)[0, 1] > 0.99999


def test_ge_3d_series_matches_a_live_dcm2niix_run(shared_data: Path, tmp_path: Path) -> None:
    dcm2niix = require_tool("dcm2niix")
    source = shared_data / "dicom/dcm_qa_ge/In/05_3D_Ax_T1_MP_RAGE_R22"
    subprocess.run([dcm2niix, "-z", "n", "-b", "n", "-f", "ref", "-o", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    vol = read_dicom_volume(source)
    assert vol.shape == (256, 256, 130)
    assert_same_image(vol, nib.load(str(tmp_path / "ref.nii")))
