"""The model <-> engine interface: shapes, save/load round trip, gating, orientation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.grounding import Features, GroundingConfig, GroundingModel, plane_view
from medsee_cli.model.grounding.head import GroundingHead, parameter_count
from medsee_cli.model.grounding.pipeline import RefineOptions, coarse_boxes, refine_mask
from medsee_cli.model.preprocess import geometry_for
from tests.grounding.conftest import TINY


def test_save_and_load_round_trip_gives_identical_outputs(tiny_model, random_base, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    weights = tiny_model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "medsee-grounding" and config["dim"] == 16 and config["kernels"] == [1, 3]
    loaded = GroundingModel.from_pretrained(folder, base=random_base)
    assert loaded.config == tiny_model.config
    features = Features(torch.randn(2, 256, 64, 64), torch.rand(2, 1, 256, 256))
    text = torch.randn(3, 384)
    a, b = tiny_model.ground(features, text), loaded.ground(features, text)
    assert torch.equal(a.mask_logits, b.mask_logits) and torch.equal(a.presence_logits, b.presence_logits)
    # The file holds the head only (the frozen base is referenced by name), so it stays small.
    assert weights.stat().st_size < 4 * parameter_count(GroundingHead(TINY)) + 100_000


def test_loading_rejects_a_wrong_checksum_and_a_foreign_folder(tiny_model, random_base, tmp_path: Path) -> None:
    tiny_model.save_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError, match="SHA-256|sha256|checksum"):
        GroundingModel.from_pretrained(tmp_path / "m", expected_sha256="0" * 64, base=random_base)
    with pytest.raises(CheckpointError, match="not a grounding model folder"):
        GroundingModel.from_pretrained(tmp_path, base=random_base)
    with pytest.raises(CheckpointError, match="unknown config keys"):
        GroundingConfig.from_dict({"dim": 8, "surprise": 1})


def test_ground_shapes_for_batches_of_slices_and_texts(tiny_model) -> None:
    slices = np.random.default_rng(0).integers(-200, 300, size=(2, 60, 90)).astype(np.int16)
    images, geometries = tiny_model.prepare(slices, "CT")
    assert images.shape == (2, 3, 256, 256) and geometries[0].original == (60, 90)
    features = tiny_model.encode(images)
    assert features.embedding.shape == (2, 256, 64, 64) and len(features[1]) == 1
    grounding = tiny_model.ground(features, torch.randn(3, 384))
    assert grounding.mask_logits.shape == (2, 3, 128, 128) and grounding.stride == 2
    assert grounding.presence_logits.shape == (2, 3) and grounding.boxes.shape == (2, 3, 4)
    boxes = grounding.boxes
    assert bool((boxes[..., 2] >= boxes[..., 0]).all() and (boxes >= 0).all() and (boxes <= 256).all())
    refined = tiny_model.refine(features, 1, torch.tensor([[10.0, 10.0, 120.0, 80.0]]))
    assert refined.shape == (1, 256, 256)
    assert tiny_model.to_slice(refined, geometries[1]).shape == (1, 60, 90)
    assert tiny_model.to_slice(grounding.mask_logits[0], geometries[0]).shape == (3, 60, 90)


def test_presence_gate_and_one_box_per_piece(tiny_model) -> None:
    coarse = torch.full((128, 128), -5.0)
    coarse[10:20, 10:30] = 5.0  # two separate pieces
    coarse[80:100, 60:70] = 5.0
    boxes = coarse_boxes(coarse, 2)
    assert boxes.shape == (2, 4)
    first = boxes[np.argmin(boxes[:, 0])]
    assert first[0] <= 20 and first[2] >= 59 and first[1] <= 20 and first[3] >= 39  # padded, in input pixels
    features = Features(torch.randn(1, 256, 64, 64), torch.rand(1, 1, 256, 256))
    closed, none = refine_mask(tiny_model, features, 0, coarse, presence_logit=-1.0)
    assert not bool((closed > 0).any()) and len(none) == 0
    _, used = refine_mask(tiny_model, features, 0, coarse, presence_logit=2.0, options=RefineOptions(keep_coarse=True))
    assert len(used) == 2


def test_radiological_view_for_ras_and_lps_volumes() -> None:
    ras = np.diag([3.0, 3.0, 3.0, 1.0])
    lps = np.diag([-1.5, -1.5, 1.5, 1.0])
    plane = np.arange(12).reshape(4, 3)  # [i, j]
    for affine in (ras, lps):
        view = plane_view(affine)
        assert np.array_equal(view.from_display(view.to_display(plane)), plane)
    # RAS: i grows to the patient's right, so the last i (rightmost) lands in display column 0.
    shown = plane_view(ras).to_display(plane)
    assert shown.shape == (3, 4) and shown[0, 0] == plane[3, 2]
    # LPS: i grows to the left already and j to posterior: a plain transpose.
    assert np.array_equal(plane_view(lps).to_display(plane), plane.T)


def test_geometry_of_prepared_slices_matches_preprocess(tiny_model) -> None:
    _, geometries = tiny_model.prepare(np.zeros((1, 101, 122), np.uint8), "OT")
    assert geometries[0] == geometry_for((101, 122), 256)


def test_only_a_zoomed_field_is_padded_to_the_models_smallest_field(tiny_model) -> None:
    from dataclasses import replace

    tiny_model.config = replace(tiny_model.config, min_field_mm=350.0)
    planes = np.zeros((1, 120, 126), np.uint8)
    _, (zoomed,) = tiny_model.prepare(planes, "OT", pixel_mm=(1.5, 1.5), zoomed=True)
    _, (whole,) = tiny_model.prepare(planes, "OT", pixel_mm=(1.5, 1.5))
    assert zoomed == geometry_for((120, 126), 256, (1.5, 1.5), 350.0) and whole == geometry_for((120, 126), 256)


def _flip_tensor_bytes(weights: Path) -> None:
    """Damage the tensor data (not the safetensors header) the way a bad disk or copy would."""
    data = bytearray(weights.read_bytes())
    for offset in range(len(data) - 64, len(data) - 32):
        data[offset] ^= 0xFF
    weights.write_bytes(bytes(data))


def test_a_saved_folder_records_the_sha256_of_its_weights(tiny_model, tmp_path: Path) -> None:
    from medsee_cli.model.weights import sha256_of

    weights = tiny_model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["weights_sha256"] == sha256_of(weights)


def test_a_folder_with_damaged_tensors_is_refused_at_load(tiny_model, random_base, tmp_path: Path) -> None:
    weights = tiny_model.save_pretrained(tmp_path / "m")
    _flip_tensor_bytes(weights)
    with pytest.raises(CheckpointError, match="SHA-256 mismatch") as caught:
        GroundingModel.load(str(tmp_path / "m"), base=random_base)
    assert caught.value.exit_code == 5 and caught.value.item == str(weights)


def test_a_folder_without_an_integrity_record_is_refused(tiny_model, random_base, tmp_path: Path) -> None:
    tiny_model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["weights_sha256"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="no integrity record"):
        GroundingModel.load(str(tmp_path / "m"), base=random_base)


def test_the_shipped_checkpoint_records_the_registry_sha256() -> None:
    from medsee_cli.model.registry import get_entry, locate
    from medsee_cli.model.weights import sha256_of

    found = locate(get_entry("medsee-grounding-v1"))
    config = json.loads((found.path.parent / "config.json").read_text())
    assert config["weights_sha256"] == found.source.sha256 == sha256_of(found.path)
    assert config["min_field_mm"] == 350.0  # zoomed CT fields are shown at a whole-body scale (bench/field_of_view.py)


@pytest.mark.parametrize(("precision", "dtype"), [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_the_engine_s_precision_reaches_the_model(tiny_model, precision: str, dtype: torch.dtype) -> None:
    """The engine owns precision: the model opens no autocast of its own that could switch the
    engine's off (its encoder's output dtype shows which precision really ran)."""
    from medsee_cli.engine.device import autocast_dtype, running
    from medsee_cli.engine.options import EngineOptions
    from medsee_cli.engine.stream import SliceEngine

    engine = SliceEngine(tiny_model, EngineOptions(device="cpu", precision=precision))
    assert engine.precision == precision and engine.dtype == autocast_dtype(torch.device("cpu"), precision)
    layer = next(m for m in tiny_model.base.modules() if isinstance(m, torch.nn.Conv2d))
    seen: list[torch.dtype] = []

    class Seen(Exception):
        pass

    def record(module, args, out):  # type: ignore[no-untyped-def]
        seen.append(out.dtype)
        raise Seen  # the first layer tells the precision; stop there (emulated bf16 is slow on some CPUs)

    hook = layer.register_forward_hook(record)
    try:
        images, _ = tiny_model.prepare(np.zeros((1, 32, 32), np.int16), "CT")
        with pytest.raises(Seen), running(engine.device, engine.dtype):
            tiny_model.encode(images)
        with pytest.raises(Seen):
            tiny_model.encode(images)  # no autocast around it: fp32
    finally:
        hook.remove()
    assert seen == [dtype, torch.float32]


def test_the_model_states_what_the_engine_needs(tiny_model) -> None:
    """The engine's protocol members are real attributes of the model, read from its config."""
    assert tiny_model.context_slices == 0 and tiny_model.text_encoder == "all-MiniLM-L6-v2"
    assert tiny_model.trained_targets == tiny_model.config.trained_targets
    assert tiny_model.presence_logit("liver") == tiny_model.config.presence_logit("liver")
    assert not hasattr(tiny_model, "text_vectors")  # target texts are encoded by the caller
