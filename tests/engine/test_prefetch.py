from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.engine.prefetch import Prefetcher, read_slices
from medsee_cli.io.volume import Volume
from medsee_cli.model.grounding.orientation import PlaneView, plane_view
from tests.engine.toy import BrightModel


def ramp(depth: int = 20) -> Volume:
    data = np.zeros((6, 5, depth), dtype=np.int16)
    data += np.arange(depth, dtype=np.int16)[None, None, :]
    data[1, 0, :] = -1  # marks (i=1, j=0): row 0, column 1 of each slice
    return Volume(data, np.eye(4), modality="CT")


TRANSPOSE = PlaneView(transpose=True, flip_rows=False, flip_cols=False)


def test_read_slices_are_rows_by_columns_in_the_requested_order():
    volume = ramp()
    slices = read_slices(volume, [3, 7, 8], context=0, view=TRANSPOSE)
    assert slices.shape == (3, 5, 6)  # (B, rows=j, cols=i)
    assert [int(s[2, 2]) for s in slices] == [3, 7, 8]
    assert slices[0, 0, 1] == -1 and slices[0, 1, 0] == 3


@pytest.mark.parametrize("affine", [np.eye(4), np.diag([-1.0, -1.0, 1.0, 1.0]), np.array(
    [[0, 1.0, 0, 0], [-1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])])
def test_default_view_is_the_radiological_display_of_the_model(affine):
    data = np.random.default_rng(0).integers(-100, 100, size=(6, 5, 4)).astype(np.int16)
    volume = Volume(data, affine, modality="CT")
    view = plane_view(volume.affine)
    slices = read_slices(volume, [1, 2], context=1)
    assert np.array_equal(slices[0, ..., 1], view.to_display(data[:, :, 1]))
    assert np.array_equal(slices[1, ..., 2], view.to_display(data[:, :, 3]))
    assert np.array_equal(view.from_display(slices[0, ..., 1]), data[:, :, 1])


@pytest.mark.parametrize("indices", [[0, 1, 2, 19], [0, 10, 19]])  # dense slab read / one read per slice
def test_context_windows_repeat_the_edge_slices(indices):
    slices = read_slices(ramp(), indices, context=2, view=TRANSPOSE)
    assert slices.shape == (len(indices), 5, 6, 5)
    expected = {0: [0, 0, 0, 1, 2], 1: [0, 0, 1, 2, 3], 2: [0, 1, 2, 3, 4], 10: [8, 9, 10, 11, 12],
                19: [17, 18, 19, 19, 19]}
    for row, k in enumerate(indices):
        assert slices[row, 3, 3].tolist() == expected[k]


def test_prefetch_keeps_order_runs_on_a_thread_and_bounds_the_queue():
    model = BrightModel()
    indices = list(range(0, 20, 3))
    prefetcher = Prefetcher(ramp(), model, indices, batch_size=3, context=0, depth=1)
    seen = []
    for batch in prefetcher:
        assert len(batch.indices) == batch.images.shape[0] == len(batch.geometries)
        assert prefetcher._queue.qsize() <= 1
        seen.extend(batch.indices)
    assert seen == indices
    assert model.prepare_threads == {"medsee-prefetch"}


def test_prefetch_errors_reach_the_consumer():
    class Broken(BrightModel):
        def prepare(self, slices, modality):
            raise ValueError("cannot window this")

    with pytest.raises(ValueError, match="cannot window"):
        list(Prefetcher(ramp(), Broken(), [0, 1, 2], batch_size=2, context=0))


def test_closing_early_stops_the_thread():
    prefetcher = Prefetcher(ramp(200), BrightModel(), list(range(200)), batch_size=1, context=0, depth=1)
    for _ in prefetcher:
        break
    assert not prefetcher._thread.is_alive()
