"""The engine's own allocations stay far below one float copy of the volume."""

from __future__ import annotations

import tracemalloc

import numpy as np

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from tests.engine.conftest import ball_volume, measured
from tests.engine.toy import BrightModel, vectors


def test_peak_memory_on_512x512x200_is_bounded():
    volume = ball_volume(shape=(512, 512, 200), centre=(300, 200, 90), radius=30.0)
    float_copy = 512 * 512 * 200 * 4  # 210 MB
    engine = SliceEngine(BrightModel(size=128), EngineOptions(device="cpu", precision="fp32", batch_size=8, skip_stride=1))
    tracemalloc.start()
    try:
        result = engine.run(volume, ["bright"], vectors(["bright"]))
        finding = measured(volume, result.tracks[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.slices_run == 200 and finding.present
    assert abs(finding.voxels - 4 / 3 * np.pi * 30 ** 3) / (4 / 3 * np.pi * 30 ** 3) < 0.1  # toy model sees 128x128
    # numpy + Python allocations (torch tensors are per batch): a slab of 8 slices, the crops of
    # the hits and the target's own region, not the volume
    assert peak < 0.15 * float_copy, f"peak {peak / 1e6:.1f} MB"
