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


def test_a_small_field_of_view_is_padded_to_the_models_smallest_field() -> None:
    # patient_c's 120 x 126 slices at 1.5 mm span 189 mm: with a 350 mm smallest field they fill
    # 256 * 189 / 350 input pixels, as a whole-body field would show the same anatomy
    geometry = geometry_for((120, 126), 256, (1.5, 1.5), min_field_mm=350.0)
    assert geometry.scale == pytest.approx(256 / (350 / 1.5)) and geometry.resized == (132, 138)
    image = np.full((120, 126), 200, dtype=np.uint8)
    image[:10] = 0
    tensor, placed = image_tensor(image, 256, (1.5, 1.5), 350.0)
    assert placed == geometry and torch.count_nonzero(tensor[..., 138:]) == 0 and torch.count_nonzero(tensor[..., 132:, :]) == 0
    logits = torch.full((1, 1, 256, 256), -5.0)
    logits[..., :66, :69] = 5.0  # the top-left quarter of the slice, in input pixels
    back = restore_logits(logits, placed)[0]
    assert tuple(back.shape) == (120, 126) and bool((back[:55, :60] > 0).all()) and bool((back[65:, 65:] < 0).all())
    # non-square pixels: the longest physical side is what is padded
    tall = geometry_for((100, 100), 256, (2.0, 1.0), min_field_mm=400.0)
    assert tall.scales == pytest.approx((256 * 2.0 / 400, 256 * 1.0 / 400)) and tall.resized == (128, 64)


def test_a_field_wider_than_the_smallest_or_of_unknown_pixel_size_is_not_padded() -> None:
    assert geometry_for((122, 101), 256, (3.0, 3.0), min_field_mm=350.0) == geometry_for((122, 101))
    assert geometry_for((60, 60), 256, None, min_field_mm=350.0) == geometry_for((60, 60))  # a picture: no mm
    assert geometry_for((120, 126), 256, (1.5, 1.5), min_field_mm=0.0) == geometry_for((120, 126))


def test_a_field_whose_border_runs_through_tissue_cuts_the_body() -> None:
    from medsee_cli.model.preprocess import cuts_body

    whole = np.zeros((100, 100), np.uint8)
    whole[10:90, 5:95] = 120  # the body with air all round: a whole-body field
    zoomed = np.full((100, 100), 120, np.uint8)
    zoomed[:, :20] = 0  # tissue on three sides: a field inside the body
    assert not cuts_body([whole]) and cuts_body([zoomed])
    assert cuts_body(np.stack([zoomed, zoomed, whole])) and not cuts_body(np.stack([whole, whole, zoomed]))
    assert not cuts_body([])


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
