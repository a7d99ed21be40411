"""The image encoder under ONNX Runtime: exported at conversion from the real weights, it gives
torch's embeddings on real CT slices; a graph from other weights, a damaged file or a missing
runtime is refused with the reason, and ``auto`` then falls back to torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.onnx_encoder import ENCODER_ONNX, choose_encoder, open_onnx_encoder
from medsee_cli.model.pretrained import convert_checkpoint, load_checkpoint
from medsee_cli.model.registry import get_entry

NAME = "litemedsam-base"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("onnx_home")
    convert_checkpoint(NAME, home)
    return home / NAME


@pytest.fixture(scope="module")
def ct_slices(shared_data: Path) -> torch.Tensor:
    """Three real CT slices (liver, kidneys, pelvis levels) prepared as the model takes them."""
    from medsee_cli.io import load_volume
    from medsee_cli.model.preprocess import image_tensor, to_uint8, window_for

    data = np.asarray(load_volume(shared_data / "ct" / "patient_a" / "ct.nii.gz").array(), dtype=np.float32)
    planes = [data[:, :, k] for k in (100, 80, 20)]
    window = window_for("CT", np.stack(planes))
    return torch.cat([image_tensor(to_uint8(p, window), 256)[0] for p in planes])


def sha() -> str:
    return get_entry(NAME).source("safetensors").sha256


def test_onnx_embeddings_equal_torch_on_real_ct(converted: Path, ct_slices: torch.Tensor) -> None:
    model = load_checkpoint(NAME, converted.parent).model
    encoder = open_onnx_encoder(converted / ENCODER_ONNX, sha())
    with torch.inference_mode():
        expected = model.image_encoder(ct_slices)
    got = encoder(ct_slices)  # a batch of three: the batch size is free
    assert got.shape == expected.shape == (3, 256, 64, 64)
    assert float((got - expected).abs().max()) < 1e-4 * float(expected.abs().max())
    single = encoder(ct_slices[1:2])
    assert torch.allclose(single[0], got[1], atol=1e-5)


def test_a_graph_from_other_weights_or_damaged_is_refused(converted: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="exported from weights"):
        open_onnx_encoder(converted / ENCODER_ONNX, "0" * 64)
    broken = tmp_path / ENCODER_ONNX
    broken.write_bytes((converted / ENCODER_ONNX).read_bytes()[:100_000])
    with pytest.raises(CheckpointError, match="cannot be opened by onnxruntime"):
        open_onnx_encoder(broken, sha())
    with pytest.raises(CheckpointError, match="no ONNX encoder here"):
        open_onnx_encoder(tmp_path / "missing.onnx", sha())


def test_runtime_choice(converted: Path) -> None:
    cpu = torch.device("cpu")
    assert choose_encoder("torch", converted / ENCODER_ONNX, sha(), cpu) is None
    assert choose_encoder("auto", converted / ENCODER_ONNX, sha(), cpu) is not None
    assert choose_encoder("auto", converted / ENCODER_ONNX, "0" * 64, cpu) is None  # falls back to torch
    assert choose_encoder("auto", None, sha(), cpu) is None  # weights loaded from the .pth, never converted
    with pytest.raises(CheckpointError, match="were not converted"):
        choose_encoder("onnx", None, sha(), cpu)
    with pytest.raises(CheckpointError, match="CPU only"):
        choose_encoder("onnx", converted / ENCODER_ONNX, sha(), torch.device("cuda"))
    with pytest.raises(ValueError, match="runtime must be one of"):
        choose_encoder("tensorrt", converted / ENCODER_ONNX, sha(), cpu)
