"""NIfTI and NRRD/MetaImage round trips with random geometry (property-based)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsee_cli.errors import InputError
from medsee_cli.io import Volume, load_volume, write_nifti


def _random_affine(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    affine = np.eye(4)
    affine[:3, :3] = q * rng.uniform(0.3, 5.0, size=3)
    affine[:3, 3] = rng.uniform(-300, 300, size=3)
    return affine


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31 - 1),
    dtype=st.sampled_from([np.int16, np.uint8, np.float32, np.int32, np.uint16]),
    suffix=st.sampled_from([".nii", ".nii.gz"]),
)
def test_nifti_round_trip_keeps_voxels_and_affine(tmp_path: Path, seed: int, dtype: type, suffix: str) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 12, size=3))
    data = (rng.normal(size=shape) * 100).astype(dtype)
    affine = _random_affine(rng)
    target = tmp_path / f"v{seed}{suffix}"
    write_nifti(Volume(data, affine), target)
    back = load_volume(target)
    np.testing.assert_array_equal(back.array(), data)
    np.testing.assert_allclose(back.affine, affine, atol=1e-4)
    header = nib.load(str(target)).header
    assert int(header["sform_code"]) == 1 and int(header["qform_code"]) == 1


def test_sheared_affine_is_kept_in_sform_only(tmp_path: Path) -> None:
    affine = np.array([[1.0, 0, 0, 0], [0, 1.0, 0.3, 0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
    write_nifti(Volume(np.zeros((3, 3, 3), np.int16), affine), tmp_path / "tilt.nii.gz")
    img = nib.load(str(tmp_path / "tilt.nii.gz"))
    assert int(img.header["qform_code"]) == 0
    np.testing.assert_allclose(img.get_sform(), affine)


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_itk_formats_flip_lps_to_ras(tmp_path: Path, suffix: str) -> None:
    import SimpleITK as sitk

    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(6, 5, 4)  # ITK order [k, j, i]
    image = sitk.GetImageFromArray(data)
    image.SetSpacing((0.5, 0.7, 3.0))
    image.SetOrigin((10.0, -20.0, 30.0))
    image.SetDirection((0, 1, 0, -1, 0, 0, 0, 0, 1))
    sitk.WriteImage(image, str(tmp_path / f"x{suffix}"))
    vol = load_volume(tmp_path / f"x{suffix}")
    assert vol.shape == (4, 5, 6)
    assert vol.array()[3, 2, 1] == data[1, 2, 3]
    lps = vol.lps_affine
    np.testing.assert_allclose(lps[:3, 3], [10.0, -20.0, 30.0])
    np.testing.assert_allclose(lps[:3, 0], [0.0, -0.5, 0.0], atol=1e-9)  # first direction column * spacing
    np.testing.assert_allclose(lps[:3, 1], [0.7, 0.0, 0.0], atol=1e-9)


def test_real_nrrd_matches_nifti_conventions(shared_data: Path) -> None:
    vol = load_volume(shared_data / "mr/pyradiomics/brain1_image.nrrd")
    assert vol.shape == (256, 256, 25)
    assert vol.spacing == pytest.approx((0.7812, 0.7812, 6.5), abs=1e-3)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not a nifti at all")
    with pytest.raises(InputError) as err:
        load_volume(broken)
    assert str(broken) in str(err.value)
    with pytest.raises(InputError, match="no such file"):
        load_volume(tmp_path / "missing.nii")
