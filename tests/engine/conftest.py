from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.engine.findings import Finding, finding
from medsee_cli.engine.tracks import TargetTrack
from medsee_cli.io.volume import Volume
from medsee_cli.measure import effective_modality


def ball_volume(shape=(64, 48, 120), centre=(30, 20, 55), radius=8.0, value=1000, affine=None) -> Volume:
    """A CT-like volume (air -1000, body 40 HU) holding one bright ball."""
    data = np.full(shape, -1000, dtype=np.int16)
    data[4:-4, 4:-4, :] = 40
    ii, jj, kk = np.ogrid[:shape[0], :shape[1], :shape[2]]
    ball = (ii - centre[0]) ** 2 + (jj - centre[1]) ** 2 + (kk - centre[2]) ** 2 <= radius ** 2
    data[ball] = value
    return Volume(data, np.diag([0.8, 0.8, 2.5, 1.0]) if affine is None else affine, modality="CT")


@pytest.fixture
def ball() -> Volume:
    return ball_volume()


def measured(volume: Volume, track: TargetTrack) -> Finding:
    """The engine's finding for a track, with the modality decided from the volume (as a run does)."""
    return finding(volume, track, modality=effective_modality(volume))
