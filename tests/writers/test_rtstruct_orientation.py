"""RTSTRUCT validity and round trip; masks land on the right voxels on oblique/flipped grids."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.io import load_volume
from medsee_cli.writers.dicom_read import read_rtstruct_on, read_seg
from medsee_cli.writers.dicom_seg import write_seg
from medsee_cli.writers.nifti_mask import write_label_map
from medsee_cli.writers.options import WriterOptions
from medsee_cli.writers.boxes import boxes_document
from medsee_cli.writers.rtstruct import write_rtstruct
from tests.conftest import require_tool
from tests.writers.conftest import blobs, dciodvfy, series_volume, table3
from tests.writers.dicom_series import make_ct_series, volume_from_files

OBLIQUE = (0.9659258, 0.258819, 0.0, -0.2241439, 0.8365163, 0.5)  # rotated about z then tilted
GEOMETRIES = {
    "axial": dict(iop=(1, 0, 0, 0, 1, 0)),
    "flipped": dict(iop=(-1, 0, 0, 0, -1, 0)),  # rows run towards R, columns towards A
    "oblique": dict(iop=OBLIQUE),
    "sagittal": dict(iop=(0, 1, 0, 0, 0, -1)),
}


@pytest.mark.parametrize("syntax", [None, "1.2.840.10008.1.2.4.80"])
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_reader_agrees_with_the_dicom_definitions(tmp_path: Path, name: str, syntax: str | None) -> None:
    """The writers' sources come from medsee's reader; here its geometry, slice order, references
    and pixels are checked against a builder that applies the DICOM definitions directly."""
    paths = make_ct_series(tmp_path / "ct", transfer_syntax=syntax, **GEOMETRIES[name])
    ours, independent = load_volume(tmp_path / "ct"), volume_from_files(paths)
    assert np.allclose(ours.affine, independent.affine, atol=1e-4)
    assert ours.refs.slices == independent.refs.slices
    assert ours.refs.frame_of_reference_uid == independent.refs.frame_of_reference_uid
    assert np.allclose(ours.array(), independent.array())


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_rtstruct_is_valid_and_round_trips(tmp_path: Path, name: str) -> None:
    volume = series_volume(tmp_path / "ct", **GEOMETRIES[name])
    lm = blobs(volume.spatial_shape)
    lm[5:9, 5:9, 3] = 0  # a hole inside the liver blob on one slice
    out = write_rtstruct(volume, lm, table3(), tmp_path / "rt.dcm", WriterOptions())
    errors, _ = dciodvfy(out)
    assert errors == []
    back, labels = read_rtstruct_on(out, volume)
    assert np.array_equal(back, lm)
    assert [label.name for label in labels] == ["liver", "spleen", "kidney"]
    assert labels.get(2).colour == (10, 200, 30) and labels.get(1).type.code == "10200004"


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_masks_land_on_the_same_patient_positions_in_every_format(tmp_path: Path, name: str) -> None:
    """A marker voxel keeps its patient position through SEG (own geometry), NIfTI and boxes."""
    volume = series_volume(tmp_path / "ct", **GEOMETRIES[name])
    lm = blobs(volume.spatial_shape)
    seg_path = write_seg(volume, lm, table3(), tmp_path / "seg.dcm", WriterOptions())
    seg_volume, _ = read_seg(seg_path)  # geometry from the SEG alone, not from our refs
    seg_lm = np.asarray(seg_volume.dataobj)
    world = lambda affine, ijk: affine[:3, :3] @ np.asarray(ijk, float) + affine[:3, 3]  # noqa: E731
    for value in (1, 2):
        ours = np.array([world(volume.affine, p) for p in np.argwhere(lm == value)])
        theirs = np.array([world(seg_volume.affine, p) for p in np.argwhere(seg_lm == value)])
        assert len(ours) == len(theirs)
        gaps = np.linalg.norm(ours[:, None, :] - theirs[None, :, :], axis=2).min(axis=1)
        assert gaps.max() < 0.01  # mm: every voxel has its twin at the same patient position
    nifti = nib.load(write_label_map(volume, lm, tmp_path / "mask.nii.gz", overwrite=False))
    assert np.allclose(nifti.affine, volume.affine, atol=1e-4)
    assert np.array_equal(np.asarray(nifti.dataobj), lm)
    doc = boxes_document(volume, lm, table3(), "CT")
    spleen = doc["targets"][1]
    corners = np.argwhere(lm == 2)
    pts = np.array([world(volume.affine, p) for p in corners])
    assert np.all(pts.min(axis=0) >= np.array(spleen["box_mm"]["min"]) - 1e-3)
    assert np.all(pts.max(axis=0) <= np.array(spleen["box_mm"]["max"]) + 1e-3)


def test_nifti_mask_matches_dcm2niix_on_an_oblique_flipped_series(tmp_path: Path) -> None:
    """dcm2niix converts the source; our mask's world positions must hit the same image voxels."""
    tool = require_tool("dcm2niix")
    volume = series_volume(tmp_path / "ct", iop=(-0.9659258, -0.258819, 0.0, 0.2241439, -0.8365163, -0.5))
    lm = blobs(volume.spatial_shape)
    mask = nib.load(write_label_map(volume, lm, tmp_path / "mask.nii.gz", overwrite=False))
    subprocess.run([tool, "-z", "n", "-o", str(tmp_path), "-f", "conv", str(tmp_path / "ct")],
                   check=True, capture_output=True, timeout=120)
    conv = nib.load(tmp_path / "conv.nii")
    conv_data = np.asarray(conv.dataobj)
    src = volume.array()
    inv = np.linalg.inv(conv.affine)
    for p in np.argwhere(lm > 0)[::7]:
        world = mask.affine[:3, :3] @ p + mask.affine[:3, 3]
        q = np.round(inv[:3, :3] @ world + inv[:3, 3]).astype(int)
        assert conv_data[tuple(q)] == pytest.approx(src[tuple(p)], abs=0.5)  # dataobj is already scaled
