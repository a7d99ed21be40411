"""Non-square pixels: the engine gives the model the display's pixel size, and what it finds maps
back to the right voxels along each in-plane axis (`model.preprocess.geometry_for`)."""

from __future__ import annotations

import numpy as np

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from tests.engine.conftest import ball_volume, measured
from tests.engine.toy import BrightModel, vectors


def test_a_ball_on_non_square_pixels_is_found_whole_and_in_place():
    # 0.5 mm pixels down i, 1.0 mm across j: the model input is squeezed 2:1 along i, and what the toy finds
    # there (the bright voxels, a ball 8 voxels in radius) must come back onto the same voxels
    volume = ball_volume(shape=(120, 60, 40), centre=(60, 30, 20), radius=8.0, affine=np.diag([0.5, 1.0, 4.0, 1.0]))
    truth = np.asarray(volume.dataobj) > 500
    model = BrightModel(size=64)
    run = SliceEngine(model, EngineOptions(device="cpu", precision="fp32", skip_stride=1)).run(
        volume, ["bright"], vectors(["bright"]))
    assert {tuple(round(v, 6) for v in mm) for mm in model.pixel_mm_seen} == {(1.0, 0.5)}  # rows follow j here
    finding = measured(volume, run.tracks[0])
    assert finding.present and finding.pieces == 1
    assert abs(finding.voxels - int(truth.sum())) / truth.sum() < 0.15
    lo, hi = finding.box_voxel["min"], finding.box_voxel["max"]
    assert abs(lo[0] - 52) <= 2 and abs(hi[0] - 68) <= 2 and abs(lo[1] - 22) <= 2 and abs(hi[1] - 38) <= 2
