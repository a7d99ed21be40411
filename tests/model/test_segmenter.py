"""`BoxPromptSegmenter` on synthetic slices: geometry back to the slice, several boxes, options."""

from __future__ import annotations

import numpy as np
import pytest

from medsee_cli.model.pretrained import LoadedModel
from medsee_cli.model.preprocess import Window
from medsee_cli.model.segmenter import BoxPromptSegmenter, SegmenterOptions, SliceEmbedding


def phantom(rows: int = 90, cols: int = 140) -> np.ndarray:
    """A CT-like slice in HU: water background, a bright disc and a darker rectangle."""
    r, c = np.mgrid[0:rows, 0:cols]
    image = np.full((rows, cols), -100.0)
    image[(r - 40) ** 2 + (c - 35) ** 2 < 20**2] = 200.0
    image[55:80, 80:125] = 60.0
    return image


@pytest.fixture(scope="module")
def segmenter(loaded: LoadedModel) -> BoxPromptSegmenter:
    return BoxPromptSegmenter(SegmenterOptions(), model=loaded.model)


@pytest.fixture(scope="module")
def embedding(segmenter: BoxPromptSegmenter) -> SliceEmbedding:
    """fp32 embedding of the phantom in HU (default CT window)."""
    return segmenter.embed(phantom())


def test_masks_come_back_on_the_slice_grid(segmenter: BoxPromptSegmenter, embedding: SliceEmbedding) -> None:
    assert embedding.features.shape == (1, 256, 64, 64)
    boxes = np.array([[12, 17, 58, 63], [76, 51, 128, 83]], dtype=np.float32)
    found = segmenter.segment(embedding, boxes)
    assert found.masks.shape == (2, 90, 140) and found.logits.shape == (2, 90, 140)
    disc = np.zeros((90, 140), bool)
    r, c = np.mgrid[0:90, 0:140]
    disc[(r - 40) ** 2 + (c - 35) ** 2 < 20**2] = True
    rect = np.zeros((90, 140), bool)
    rect[55:80, 80:125] = True
    for mask, truth in zip(found.masks, (disc, rect)):
        dice = 2 * (mask & truth).sum() / (mask.sum() + truth.sum())
        assert dice > 0.9
    assert found.predicted_iou.shape == (2,) and (found.predicted_iou > 0.8).all()
    assert segmenter.segment(embedding, np.zeros((0, 4))).masks.shape == (0, 90, 140)


def test_encoder_is_deterministic_and_uint8_input_passes_through(
    segmenter: BoxPromptSegmenter, embedding: SliceEmbedding
) -> None:
    image_u8 = segmenter.image_for(phantom(), Window(-160.0, 240.0))
    assert image_u8.dtype == np.uint8 and segmenter.image_for(image_u8) is image_u8
    again = segmenter.embed(image_u8)
    assert np.array_equal(embedding.features.numpy(), again.features.numpy())


def test_bf16_agrees_with_fp32(
    loaded: LoadedModel, segmenter: BoxPromptSegmenter, embedding: SliceEmbedding
) -> None:
    fast = BoxPromptSegmenter(SegmenterOptions(bf16=True), model=loaded.model)
    box = np.array([[12, 17, 58, 63]], dtype=np.float32)
    ref = segmenter.segment(embedding, box).masks[0]
    low = fast.segment(fast.embed(phantom()), box).masks[0]
    assert 2 * (ref & low).sum() / (ref.sum() + low.sum()) > 0.97
