"""Every file of the pydicom transfer-syntax zoo: decoded identically, or a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.io import load_volume

# The same image stored losslessly in several transfer syntaxes must decode to the same voxels.
# (*_UNCI files are decompressed from the lossy *_J2KI copies, so they are not in these groups.)
LOSSLESS_GROUPS = {
    "emri": ["emri_small.dcm", "emri_small_RLE.dcm", "emri_small_big_endian.dcm",
             "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm"],
    "mr2": ["MR2_UNCR.dcm", "MR2_J2KR.dcm"],
    "ct693": ["693_UNCR.dcm", "693_J2KR.dcm"],
    "ob": ["OBXXXX1A.dcm", "OBXXXX1A_expb.dcm", "OBXXXX1A_rle.dcm"],
    "sc_rgb": ["SC_rgb.dcm", "SC_rgb_expb.dcm"],
    "us1": ["US1_UNCR.dcm", "US1_J2KR.dcm"],
    "htj2k": ["HTJ2KLossless_08_RGB.dcm"],
    "jpegll": ["JPGLosslessP14SV1_1s_1f_8b.dcm"],
    "jpegls": ["JLSL_08_07_0_1F.dcm"],
    "jpeg_baseline_rgb": ["SC_rgb_dcmtk_ebcyn1_dcmd.dcm"],  # lossy: decodes, nothing to compare
}
BROKEN = {
    "emri_small_jpeg_2k_lossless_too_short.dcm": "truncated",
}
NOT_IMAGES = ["liver.dcm", "liver_deflate.dcm", "liver_rle.dcm", "parametric_map_float.dcm"]


@pytest.mark.parametrize("group", sorted(LOSSLESS_GROUPS))
def test_lossless_syntaxes_decode_to_identical_voxels(shared_data: Path, group: str) -> None:
    zoo = shared_data / "dicom/pydicom_data"
    volumes = [load_volume(zoo / name) for name in LOSSLESS_GROUPS[group]]
    first = volumes[0].array()
    assert first.size > 0 and np.any(first != first.flat[0])
    for name, vol in zip(LOSSLESS_GROUPS[group], volumes):
        assert vol.refs is not None
        np.testing.assert_array_equal(vol.array(), first, err_msg=name)
        np.testing.assert_allclose(vol.affine, volumes[0].affine, err_msg=name)


def test_every_zoo_file_loads_or_fails_with_a_clear_reason(shared_data: Path) -> None:
    zoo = shared_data / "dicom/pydicom_data"
    loaded = 0
    for path in sorted(zoo.glob("*.dcm")):
        try:
            vol = load_volume(path)
        except InputError as exc:
            assert str(path) in str(exc), str(exc)
            assert "\n" not in str(exc)
            continue
        assert min(vol.shape) >= 1
        loaded += 1
    assert loaded >= 55


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_are_named_with_the_reason(shared_data: Path, name: str) -> None:
    with pytest.raises(InputError) as err:
        load_volume(shared_data / "dicom/pydicom_data" / name)
    assert name in str(err.value) and BROKEN[name] in str(err.value)


@pytest.mark.parametrize("name", NOT_IMAGES)
def test_non_image_objects_are_refused_as_such(shared_data: Path, name: str) -> None:
    with pytest.raises(InputError, match="not an image"):
        load_volume(shared_data / "dicom/pydicom_data" / name)


def test_enhanced_ct_frames_become_slices(shared_data: Path) -> None:
    vol = load_volume(shared_data / "dicom/pydicom_data/eCT_Supplemental.dcm")
    assert vol.shape == (512, 512, 2)
    assert vol.refs is not None and sorted(s.frame_number for s in vol.refs.slices) == [1, 2]  # sorted by position
