"""Helpers for DICOM tests: compare volumes in world space, write small synthetic series."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medsee_cli.io import Volume
from medsee_cli.synth.dicom_series import SeriesOptions, write_ct_series


def assert_same_image(vol: Volume, reference: nib.Nifti1Image, *, atol_mm: float = 0.05) -> None:
    """Same voxels and same geometry, after both are reoriented to the closest RAS+ axes."""
    ours = nib.as_closest_canonical(nib.Nifti1Image(np.asarray(vol.array()), vol.affine))
    ref = nib.as_closest_canonical(reference)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    np.testing.assert_allclose(ours.affine, ref.affine, atol=atol_mm)
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(ref.get_fdata()))


def small_series(folder: Path, *, n: int = 6, affine: np.ndarray | None = None, seed: int = 0, **options: object) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hu = rng.integers(-1000, 2000, size=(40, 32, n)).astype(np.int16)
    affine = np.diag([0.8, 0.9, 2.5, 1.0]) if affine is None else affine
    write_ct_series(hu, affine, folder, SeriesOptions(seed_uids=f"{folder}{seed}", **options))  # type: ignore[arg-type]
    return hu, affine
