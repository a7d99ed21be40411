"""Slice -> model input geometry, windows, boxes from masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medsee_cli.errors import InputError
from medsee_cli.model.boxes import boxes_from_mask, pad_box
from medsee_cli.model.preprocess import (
    Window,
    ct_window,
    geometry_for,
    image_tensor,
    restore_logits,
    scale_boxes,
    to_uint8,
    window_for,
)


def test_ct_default_window_is_abdomen_and_presets_come_from_data() -> None:
    assert ct_window() == Window(-160.0, 240.0)
    assert window_for("CT") == Window(-160.0, 240.0)
    assert ct_window("lung") == Window(-1350.0, 150.0)
    with pytest.raises(InputError, match="unknown"):
        ct_window("elbow")


def test_mr_window_uses_percentiles() -> None:
    values = np.arange(1001, dtype=np.float32)
    window = window_for("MR", values)
    assert window.low == pytest.approx(5.0) and window.high == pytest.approx(995.0)
    with pytest.raises(ValueError):
        window_for("MR")


def test_to_uint8_clips_and_scales() -> None:
    out = to_uint8(np.array([[-1000, -160, 40, 240, 3000]]), Window(-160, 240))
    assert out.dtype == np.uint8 and out.tolist() == [[0, 0, 128, 255, 255]]


def test_non_square_slice_is_resized_keeping_aspect_and_padded() -> None:
    image = np.zeros((100, 60), dtype=np.uint8)
    image[10:20, 5:15] = 200
    tensor, geometry = image_tensor(image)
    assert tensor.shape == (1, 3, 256, 256)
    assert geometry.resized == (256, 154) and geometry.scale == pytest.approx(2.56)
    assert float(tensor.max()) == pytest.approx(1.0) and float(tensor.min()) == 0.0
    assert torch.count_nonzero(tensor[..., 154:]) == 0  # padding on the right
    assert scale_boxes(np.array([[5, 10, 14, 19]]), geometry).tolist() == [pytest.approx([12.8, 25.6, 35.84, 48.64])]
    logits = torch.full((2, 1, 256, 256), -5.0)
    logits[:, :, :256, :154] = 3.0
    restored = restore_logits(logits, geometry)
    assert restored.shape == (2, 100, 60) and bool((restored == 3.0).all())


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 700), cols=st.integers(1, 700))
def test_geometry_fits_the_longest_side(rows: int, cols: int) -> None:
    geometry = geometry_for((rows, cols))
    assert max(geometry.resized) == 256
    assert 1 <= min(geometry.resized) <= 256
    for side, original in zip(geometry.resized, (rows, cols)):
        # rounded to the nearest pixel, but never below one pixel (a 1x513 slice stays 1 row high)
        assert side == 1 or abs(side - original * geometry.scale) <= 0.5 + 1e-9


def test_non_square_pixels_keep_the_patients_proportions() -> None:
    # a 512 x 512 matrix over a field 366 mm high and 302 mm wide: the model sees 256 x 211, as it would
    # the same field stored with square pixels, and the boxes and logits map back per axis
    image = np.zeros((512, 512), dtype=np.uint8)
    image[100:200, 300:400] = 200
    tensor, geometry = image_tensor(image, 256, (0.715, 0.59))
    assert geometry.resized == (256, 211) and geometry.scales == pytest.approx((0.5, 0.5 * 0.59 / 0.715))
    assert torch.count_nonzero(tensor[..., 211:]) == 0 and float(tensor.max()) == pytest.approx(1.0)
    across = 0.5 * 0.59 / 0.715
    assert scale_boxes(np.array([[300, 100, 399, 199]]), geometry).tolist() == [
        pytest.approx([300 * across, 50.0, 399 * across, 99.5], rel=1e-5)]
    logits = torch.full((1, 1, 256, 256), -5.0)
    logits[:, :, :256, :211] = 3.0
    assert restore_logits(logits, geometry).shape == (1, 512, 512)
    # the bright block lands where the physical proportions put it
    bright = (tensor[0, 0] > 0.5).nonzero()
    assert abs(int(bright[:, 1].min()) - 300 * across) <= 1 and abs(int(bright[:, 0].min()) - 50) <= 1


def test_square_pixels_give_the_old_geometry_exactly() -> None:
    for pixel_mm in (None, (0.8, 0.8), (0.7, 0.7035), (0.0, 0.0)):
        geometry = geometry_for((101, 122), 256, pixel_mm)
        assert geometry == geometry_for((101, 122)) and geometry.scale_cols is None


def test_one_box_per_piece_padded_and_clipped() -> None:
    mask = np.zeros((50, 40), dtype=bool)
    mask[10:20, 5:25] = True  # 10 rows x 20 cols
    mask[40:50, 30:40] = True  # touches the bottom-right corner
    mask[0, 0] = True  # a single pixel, dropped with min_pixels=2
    boxes = boxes_from_mask(mask, pad_fraction=0.1, min_pixels=2)
    assert boxes.shape == (2, 4)
    assert boxes[0].tolist() == pytest.approx([4.0, 9.0, 25.0, 20.0])  # 20 cols * 5% = 1 px, rows: min 1 px
    assert boxes[1].tolist() == pytest.approx([29.0, 39.0, 39.0, 49.0])  # clipped to the image
    tight = boxes_from_mask(mask, pad_fraction=0.0)
    assert tight.tolist()[0] == [0.0, 0.0, 0.0, 0.0] and len(tight) == 3
    assert boxes_from_mask(np.zeros((4, 4), bool)).shape == (0, 4)
    assert pad_box(np.array([10, 10, 109, 59]), 0.1, (100, 200)).tolist() == pytest.approx([5.0, 7.5, 114.0, 61.5])
