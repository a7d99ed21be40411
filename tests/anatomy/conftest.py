"""Real CTs for the anatomy tests, and variants derived from them (arms by the side, a table, LPS storage)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsee_cli.io import load_volume
from medsee_cli.io.volume import Volume

ARM_RADIUS = 9  # voxels (27 mm at 3 mm)


def label_ids(shared: Path, labelset: str = "total") -> dict[str, int]:
    return {name: int(k) for k, name in json.loads((shared / "labelmap_total.json").read_text())[labelset].items()}


@pytest.fixture(scope="session")
def patient_a(shared_data: Path) -> tuple[Volume, np.ndarray, dict[str, int]]:
    """The labelled abdominal-pelvic CT (3 mm, RAS), its label map and the label ids."""
    folder = shared_data / "ct" / "patient_a"
    volume = load_volume(folder / "ct.nii.gz")
    return volume, np.asarray(load_volume(folder / "labels_total.nii.gz").array()), label_ids(shared_data)


@pytest.fixture(scope="session")
def patient_c(shared_data: Path) -> Volume:
    """The unlabelled chest-to-upper-abdomen CT of another patient (1.5 mm, LPS, field of view inside the body)."""
    return load_volume(shared_data / "ct" / "patient_c_unlabelled" / "ct.nii.gz")


def with_arms(volume: Volume, pad: int = 30) -> tuple[Volume, np.ndarray]:
    """``volume`` with ``pad`` voxels of air around it in plane and an arm (soft tissue round a bone)
    beside the body on each side along the first axis, the whole length; returns it and the arms'
    mask on its grid. Grid and geometry stay the real scan's."""
    data = np.asarray(volume.array())
    big = np.full((data.shape[0] + 2 * pad, data.shape[1] + 2 * pad, data.shape[2]), -1000, dtype=np.int16)
    big[pad:-pad, pad:-pad] = data
    ii, jj = np.mgrid[:big.shape[0], :big.shape[1]]
    arms = np.zeros(big.shape[:2], dtype=bool)
    for centre in (ARM_RADIUS + 1, big.shape[0] - ARM_RADIUS - 2):
        distance = np.hypot(ii - centre, jj - big.shape[1] // 2)
        arms |= distance < ARM_RADIUS
        big[distance < ARM_RADIUS] = 40
        big[distance < 3] = 700
    affine = np.array(volume.affine, dtype=float)
    affine[:3, 3] -= affine[:3, :3] @ np.array([pad, pad, 0])
    return Volume(big, affine, modality="CT"), np.repeat(arms[:, :, None], big.shape[2], axis=2)


def flipped_in_plane(volume: Volume) -> Volume:
    """The same scan stored the other way round in plane (RAS -> LPS rows and columns), geometry kept true."""
    data = np.asarray(volume.array())[::-1, ::-1, :]
    affine = np.array(volume.affine, dtype=float)
    shape = np.array(data.shape[:3]) - 1
    affine[:3, 3] += affine[:3, 0] * shape[0] + affine[:3, 1] * shape[1]
    affine[:3, 0] *= -1
    affine[:3, 1] *= -1
    return Volume(np.ascontiguousarray(data), affine, modality="CT")
