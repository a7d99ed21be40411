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


# ----- damaged and lying files: one InputError naming the file, before any allocation ---------

def _header_claiming(shape: tuple[int, ...], source: Path) -> bytes:
    """The real file's NIfTI header with its shape replaced (what a corrupt header looks like)."""
    header = nib.load(str(source)).header.copy()
    header.set_data_shape(shape)
    return header.binaryblock + b"\0" * 4


@pytest.mark.parametrize("shape", [(30000, 30000, 30000), (1200, 1200, 1200)])
def test_a_header_claiming_more_voxels_than_the_gzip_can_hold_is_refused(shared_data: Path, tmp_path: Path,
                                                                          shape: tuple[int, ...]) -> None:
    import gzip

    lying = tmp_path / "lying.nii.gz"
    lying.write_bytes(gzip.compress(_header_claiming(shape, shared_data / "ct/patient_a/ct.nii.gz")))
    with pytest.raises(InputError) as err:
        load_volume(lying)
    message = str(err.value)
    assert message.startswith(f"{lying}: the header claims {'x'.join(map(str, shape))} voxels")
    assert "corrupt header or truncated file" in message and "\n" not in message


def test_an_uncompressed_nifti_shorter_than_its_header_says_is_refused(shared_data: Path, tmp_path: Path) -> None:
    lying = tmp_path / "lying.nii"
    lying.write_bytes(_header_claiming((30000, 30000, 30000), shared_data / "ct/patient_a/ct.nii.gz"))
    with pytest.raises(InputError, match=r"lying\.nii: the header claims 30000x30000x30000 voxels .* but the file has 352 bytes"):
        load_volume(lying)


def test_a_truncated_gzip_raises_input_error_where_the_voxels_are_read(shared_data: Path, tmp_path: Path) -> None:
    whole = (shared_data / "ct/patient_a/ct.nii.gz").read_bytes()
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    volume = load_volume(broken)  # the header is intact; voxels are read lazily
    for read in (volume.array, lambda: volume.slab(volume.shape[2] - 2, volume.shape[2])):
        with pytest.raises(InputError, match=r"broken\.nii\.gz: truncated or corrupt gzip data \(EOFError"):
            read()


def test_corrupt_deflate_data_raises_input_error(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "ct/patient_a/ct.nii.gz").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64  # no valid deflate block reads like this
    broken = tmp_path / "corrupt.nii.gz"
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"corrupt\.nii\.gz: truncated or corrupt gzip data"):
        load_volume(broken).array()


def test_nrrd_and_metaimage_headers_that_lie_about_their_size_are_refused(tmp_path: Path) -> None:
    nrrd = tmp_path / "lying.nrrd"
    nrrd.write_bytes(b"NRRD0004\ntype: short\ndimension: 3\nsizes: 1200 1200 1200\nendian: little\nencoding: raw\n\nabc")
    mha = tmp_path / "lying.mha"
    mha.write_bytes(b"ObjectType = Image\nNDims = 3\nDimSize = 30000 30000 30000\nElementType = MET_SHORT\n"
                    b"ElementDataFile = LOCAL\n")
    for path, shape in ((nrrd, "1200x1200x1200"), (mha, "30000x30000x30000")):
        with pytest.raises(InputError, match=rf"{path.name}: the header claims {shape} voxels .* truncated file or corrupt header"):
            load_volume(path)


def test_a_4d_nifti_reports_its_volumes_without_reading_voxels(shared_data: Path) -> None:
    """What the services check (``Volume.n_volumes``) before the model runs on a 4D input."""
    volume = load_volume(shared_data / "dicom/dcm_qa_ge/Ref/Ax_DWI_TENSOR_R2_1.nii")
    assert volume.n_volumes == 7 and volume.spatial_shape == (256, 256, 2)
    assert load_volume(shared_data / "ct/patient_a/ct.nii.gz").n_volumes == 1


@pytest.mark.parametrize("name", ["slice.png", "Slice 01.JPG", "scan.tiff"])
def test_a_2d_picture_is_turned_away_with_where_pictures_go(tmp_path: Path, shared_data: Path, name: str) -> None:
    from PIL import Image

    # a real CT slice (DeepLesion, 8-bit windowed) saved as a picture: no pixel size, orientation or position
    slab = np.asarray(load_volume(shared_data / "ct" / "lesions_deeplesion" / "case_000002_03_01_035-047_image.nii.gz").array())
    picture = tmp_path / name
    Image.fromarray(np.ascontiguousarray(slab[:, :, 6]).astype(np.uint8)).save(picture)
    with pytest.raises(InputError, match="a 2D picture without geometry: .* pictures are scored with medsee eval"):
        load_volume(picture)
