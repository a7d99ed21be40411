"""Generated series with known geometry: oblique, flipped, tilted, compressed, gapped, zipped."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from medsee_cli.errors import GeometryError, InputError
from medsee_cli.io import load_volume
from tests.io.dicom_helpers import small_series


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


@pytest.mark.parametrize(
    "name,matrix",
    [
        ("axial", np.diag([0.7, 0.7, 3.0])),
        ("flipped", np.diag([-0.7, 0.7, -3.0])),
        ("oblique", _rotation(0.3, -0.2, 0.5) @ np.diag([0.8, 0.9, 2.0])),
        ("sagittal", np.array([[0, 0, 1.5], [0.9, 0, 0], [0, -0.9, 0]])),
    ],
)
def test_voxels_and_affine_survive_the_dicom_round_trip(tmp_path: Path, name: str, matrix: np.ndarray) -> None:
    affine = np.eye(4)
    affine[:3, :3] = matrix
    affine[:3, 3] = [12.5, -40.0, 88.0]
    hu, affine = small_series(tmp_path / name, affine=affine)
    # files are written in shuffled order on purpose: sorting must come from positions
    vol = load_volume(tmp_path / name)
    flips_k = np.dot(np.cross(affine[:3, 0], affine[:3, 1]), affine[:3, 2]) < 0
    expected = hu[:, :, ::-1] if flips_k else hu
    np.testing.assert_array_equal(vol.array(), expected)
    world_of_first_voxel = affine @ np.array([0, 0, hu.shape[2] - 1 if flips_k else 0, 1.0])
    np.testing.assert_allclose(vol.affine[:, 3], world_of_first_voxel, atol=1e-4)
    assert vol.spacing == pytest.approx(tuple(np.linalg.norm(matrix, axis=0)), abs=1e-4)


@pytest.mark.parametrize(
    "syntax",
    ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"],
)
def test_compressed_series_decode_exactly(tmp_path: Path, syntax: str) -> None:
    hu, affine = small_series(tmp_path / "s", transfer_syntax=syntax)
    vol = load_volume(tmp_path / "s")
    np.testing.assert_array_equal(vol.array(), hu)
    assert vol.refs is not None and vol.refs.transfer_syntax_uid == syntax


def test_missing_slice_is_reported(tmp_path: Path) -> None:
    small_series(tmp_path / "s", n=8)
    (tmp_path / "s/IM00004.dcm").unlink()
    with pytest.raises(GeometryError, match=r"missing slice\(s\).*gap after slice 2"):
        load_volume(tmp_path / "s")


def test_non_uniform_spacing_is_reported(tmp_path: Path) -> None:
    small_series(tmp_path / "s", n=8, affine=np.diag([1.0, 1.0, 2.0, 1.0]))
    import pydicom

    path = tmp_path / "s/IM00005.dcm"
    ds = pydicom.dcmread(path)
    ds.ImagePositionPatient = [ds.ImagePositionPatient[0], ds.ImagePositionPatient[1], float(ds.ImagePositionPatient[2]) + 0.6]
    ds.save_as(path)
    with pytest.raises(GeometryError, match="non-uniform slice spacing"):
        load_volume(tmp_path / "s")


def test_gantry_tilt_is_kept_as_a_sheared_affine_and_noted(tmp_path: Path) -> None:
    tilt = np.radians(15.0)
    affine = np.eye(4)
    affine[:3, :3] = np.diag([0.8, 0.8, 2.5])
    affine[1, 2] = 2.5 * np.tan(tilt)  # slices slide along y as k grows: a tilted gantry
    hu, _ = small_series(tmp_path / "s", affine=affine)
    vol = load_volume(tmp_path / "s")
    np.testing.assert_array_equal(vol.array(), hu)
    np.testing.assert_allclose(vol.affine, affine, atol=1e-4)
    assert any("tilt" in note and "15.0" in note for note in vol.notes)


def test_zip_of_a_series_reads_like_the_folder(tmp_path: Path) -> None:
    hu, _ = small_series(tmp_path / "s")
    archive = tmp_path / "series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "s").iterdir()):
            zf.write(path, f"export/{path.name}")
    vol = load_volume(archive)
    np.testing.assert_array_equal(vol.array(), hu)
    assert vol.refs is not None and "!/export/" in vol.refs.slices[0].file


def test_mixed_folder_asks_which_series(tmp_path: Path) -> None:
    small_series(tmp_path / "mix/a", seed=1, series_number=3)
    small_series(tmp_path / "mix/b", seed=2, series_number=4)
    (tmp_path / "mix/notes.txt").write_text("not dicom")
    with pytest.raises(InputError, match="holds 2 series"):
        load_volume(tmp_path / "mix")


def test_truncated_slice_names_the_file(tmp_path: Path) -> None:
    small_series(tmp_path / "s")
    victim = tmp_path / "s/IM00003.dcm"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(InputError) as err:
        load_volume(tmp_path / "s")
    assert "IM00003.dcm" in str(err.value) and "truncated" in str(err.value)


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    small_series(tmp_path / "s")
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()}
    load_volume(tmp_path / "s")
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()} == before
    shutil.rmtree(tmp_path / "s")
