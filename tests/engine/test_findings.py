from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from medsee_cli.engine.components import TOO_SMALL, RegionMask, assemble, keep_consistent
from medsee_cli.engine.tracks import SliceHit, TargetTrack
from medsee_cli.io.volume import Volume
from tests.engine.conftest import measured


def track_from(mask: np.ndarray, score: float = 0.9) -> TargetTrack:
    track = TargetTrack("target", mask.shape[2])
    for k in range(mask.shape[2]):
        track.record(k, score if mask[:, :, k].any() else 0.1, SliceHit.from_mask(k, score, mask[:, :, k]))
    return track


def affines():
    rotated = np.eye(4)
    rotated[:3, :3] = Rotation.from_euler("xyz", [20, -35, 50], degrees=True).as_matrix() @ np.diag([0.7, 0.9, 2.0])
    rotated[:3, 3] = [-120.0, 40.0, 300.0]
    flipped = np.diag([-0.8, -0.8, 2.5, 1.0])
    flipped[:3, 3] = [200.0, 180.0, -50.0]
    return {"axis": np.diag([0.5, 0.5, 2.0, 1.0]), "flipped": flipped, "oblique": rotated}


@pytest.mark.parametrize("name", ["axis", "flipped", "oblique"])
def test_measure_box_volume_and_hu_on_any_affine(name):
    affine = affines()[name]
    data = np.full((40, 30, 12), -50, dtype=np.int16)
    mask = np.zeros(data.shape, dtype=bool)
    mask[10:20, 5:15, 3:8] = True
    data[mask] = 60
    data[10, 5, 3] = 160
    volume = Volume(data, affine, modality="CT")
    finding = measured(volume, track_from(mask))
    assert finding.present and finding.voxels == 500 and finding.pieces == 1
    assert finding.volume_ml == pytest.approx(500 * abs(np.linalg.det(affine[:3, :3])) / 1000, abs=1e-3)
    assert finding.box_voxel == {"min": [10, 5, 3], "max": [19, 14, 7]}
    corners = np.array(list(itertools.product([9.5, 19.5], [4.5, 14.5], [2.5, 7.5])))
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    assert np.allclose(finding.box_mm["min"], world.min(axis=0), atol=0.01)
    assert np.allclose(finding.box_mm["max"], world.max(axis=0), atol=0.01)
    assert [s["index"] for s in finding.slices] == [3, 4, 5, 6, 7]
    assert finding.slices[0]["box"] == [10, 5, 19, 14] and finding.slices[0]["score"] == pytest.approx(0.9)
    assert finding.intensity["unit"] == "HU" and finding.intensity["mean"] == pytest.approx(60.2)
    assert finding.intensity["max"] == 160
    assert set(finding.to_dict()) == {"target", "present", "voxels", "volume_ml", "box_voxel", "box_mm", "slices"}


def test_single_slice_and_tiny_pieces_are_dropped():
    mask = np.zeros((40, 40, 20), dtype=bool)
    mask[5:15, 5:15, 2:6] = True  # kept: 400 voxels over 4 slices
    mask[25:35, 25:35, 10:13] = True  # kept: second piece
    mask[30:38, 2:10, 17] = True  # one slice only: dropped
    mask[2, 30:33, 15:18] = True  # 9 voxels: dropped
    finding = measured(Volume(np.zeros(mask.shape, np.int16), np.diag([1.0, 1.0, 2.0, 1.0]), modality="CT"), track_from(mask))
    assert finding.pieces == 2 and finding.voxels == 400 + 300
    assert finding.box_voxel == {"min": [5, 5, 2], "max": [34, 34, 12]}
    (small,) = [d.to_dict() for d in finding.dropped]  # said, not silent
    assert small == {"reason": TOO_SMALL, "voxels": 64 + 9, "volume_ml": round(73 * 2.0 / 1000, 2)}


def test_only_isolated_blobs_means_not_present():
    mask = np.zeros((20, 20, 10), dtype=bool)
    mask[5:10, 5:10, 4] = True
    finding = measured(Volume(np.zeros(mask.shape, np.int16), np.eye(4), modality="CT"), track_from(mask))
    assert not finding.present and finding.voxels == 0 and finding.box_mm is None
    assert [(d.reason, d.voxels) for d in finding.dropped] == [(TOO_SMALL, 25)]  # found, then too small: the JSON says so


def test_assemble_and_paint_round_trip():
    rng = np.random.default_rng(3)
    mask = np.zeros((30, 25, 8), dtype=bool)
    mask[8:20, 4:22, 1:7] = rng.random((12, 18, 6)) > 0.3
    region = assemble(track_from(mask).hits.values())
    labelmap = np.zeros(mask.shape, dtype=np.uint8)
    region.paint(labelmap, 3)
    assert np.array_equal(labelmap == 3, mask)
    cleaned, pieces, _ = keep_consistent(RegionMask(region.offset, region.mask), 1, 1)
    assert pieces >= 1 and cleaned.voxels == int(mask.sum())


def test_side_follows_the_patient_not_the_array():
    data = np.full((60, 40, 10), -1000, dtype=np.int16)
    data[5:55, 5:35, :] = 40
    mask = np.zeros(data.shape, dtype=bool)
    mask[8:16, 15:25, 3:7] = True  # low i
    ras = np.diag([1.0, 1.0, 1.0, 1.0])  # i increases to the patient's right
    las = np.diag([-1.0, 1.0, 1.0, 1.0])  # i increases to the patient's left
    assert measured(Volume(data, ras, modality="CT"), track_from(mask)).side == "left"
    assert measured(Volume(data, las, modality="CT"), track_from(mask)).side == "right"
