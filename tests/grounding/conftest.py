"""Fixtures: a tiny random grounding model (random LiteMedSAM too: shapes, not quality)."""

from __future__ import annotations

import pytest
import torch

from medsee_cli.model.config import MedseeModelConfig
from medsee_cli.model.grounding import GroundingConfig, GroundingModel
from medsee_cli.model.litemedsam import LiteMedSAM

TINY = GroundingConfig(dim=16, stem_channels=8, levels=2, kernels=(1, 3))


@pytest.fixture(scope="session")
def random_base() -> LiteMedSAM:
    torch.manual_seed(0)
    return LiteMedSAM(MedseeModelConfig()).eval()


@pytest.fixture()
def tiny_model(random_base: LiteMedSAM) -> GroundingModel:
    torch.manual_seed(1)
    return GroundingModel.from_config(TINY, base=random_base)
