"""The Volume model: geometry derived from the affine, validation, grid-preserving copies."""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.io import Volume


def test_geometry_is_derived_from_the_affine() -> None:
    affine = np.array([[-0.8, 0, 0, 100], [0, -0.8, 0, 120], [0, 0, 2.5, -50], [0, 0, 0, 1.0]])
    vol = Volume(np.zeros((4, 5, 6), np.int16), affine, modality="CT")
    assert vol.spacing == pytest.approx((0.8, 0.8, 2.5))
    assert vol.orientation == "LPS"
    assert vol.origin == (100.0, 120.0, -50.0)
    assert vol.voxel_volume_ml == pytest.approx(0.8 * 0.8 * 2.5 / 1000)
    np.testing.assert_allclose(vol.lps_affine[:3, :3], np.diag([0.8, 0.8, 2.5]))
    np.testing.assert_allclose(vol.lps_affine[:3, 3], [-100, -120, -50])


def test_affine_is_read_only_and_validated() -> None:
    vol = Volume(np.zeros((2, 2, 2)), np.eye(4))
    with pytest.raises(ValueError):
        vol.affine[0, 0] = 3.0
    with pytest.raises(ValueError, match="singular"):
        Volume(np.zeros((2, 2, 2)), np.diag([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="3D or 4D"):
        Volume(np.zeros((2, 2)), np.eye(4))


def test_with_data_keeps_the_grid_and_rejects_another_shape() -> None:
    vol = Volume(np.zeros((3, 4, 5), np.int16), np.diag([2.0, 2.0, 3.0, 1.0]), modality="MR")
    mask = vol.with_data(np.ones((3, 4, 5), np.uint8))
    assert mask.affine is not None and np.array_equal(mask.affine, vol.affine)
    assert mask.modality == "MR" and mask.dtype == np.uint8
    with pytest.raises(ValueError, match="does not match"):
        vol.with_data(np.ones((3, 4, 6), np.uint8))


def test_slab_of_4d_volume_reads_one_time_point() -> None:
    data = np.arange(2 * 3 * 4 * 2).reshape(2, 3, 4, 2)
    vol = Volume(data, np.eye(4))
    assert vol.n_volumes == 2 and vol.spatial_shape == (2, 3, 4)
    np.testing.assert_array_equal(vol.slab(1, 3, t=1), data[:, :, 1:3, 1])
