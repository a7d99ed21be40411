"""A gzipped NIfTI is inflated once however many slabs are read (a gzip stream cannot seek), and
what each read returns is exactly what nibabel gives, scaling included."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medsee_cli.io import load_volume


def test_slabs_of_a_real_gzipped_ct_inflate_it_once(shared_data: Path) -> None:
    path = shared_data / "ct" / "patient_a" / "ct.nii.gz"
    volume = load_volume(path)
    proxy = volume.dataobj._proxy
    calls = []
    original = proxy.get_unscaled

    def counted():  # type: ignore[no-untyped-def]
        calls.append(1)
        return original()

    proxy.get_unscaled = counted
    reference = np.asarray(nib.load(str(path)).dataobj)
    for k in range(0, volume.spatial_shape[2], 7):
        slab = volume.slab(k, k + 2)
        assert slab.dtype == reference.dtype and np.array_equal(slab, reference[:, :, k:k + 2])
    assert np.array_equal(volume.array(), reference)
    assert len(calls) == 1


def test_scaled_data_reads_as_nibabel_scales_it(tmp_path: Path) -> None:
    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    image = nib.Nifti1Image(data, np.diag([0.7, 0.7, 2.0, 1.0]))
    image.header.set_slope_inter(0.5, -100.0)
    path = tmp_path / "scaled.nii.gz"
    nib.save(image, str(path))
    volume = load_volume(path)
    expected = np.asarray(nib.load(str(path)).dataobj)
    assert expected.dtype.kind == "f"
    assert np.array_equal(volume.slab(2, 4), expected[:, :, 2:4]) and volume.slab(2, 4).dtype == expected.dtype
    assert np.array_equal(volume.array(), expected)
