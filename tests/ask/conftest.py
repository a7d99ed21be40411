from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsee_cli.engine.options import EngineOptions
from medsee_cli.io import load_volume, write_nifti
from medsee_cli.io.volume import Volume

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
# A random head must "find" something for the output paths to be exercised: accept everything.
EVERYTHING = EngineOptions(device="cpu", skip_stride=1, presence_threshold=0.0, plausible_threshold=0.0,
                           min_component_voxels=1, min_component_slices=1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A grounding model with a randomly initialised small head on the real LiteMedSAM base."""
    import torch

    from medsee_cli.model.grounding import GroundingConfig, GroundingModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-grounding")
    GroundingModel.from_config(GroundingConfig(dim=16, stem_channels=8)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_ct(tmp_path_factory) -> Path:
    """Two slices through the pancreatic head of the sample jaundice phantom, as NIfTI."""
    source = load_volume(SAMPLE / "abdomen_jaundice.nii.gz")
    data = np.asarray(source.dataobj[:, :, 29:31])
    affine = source.affine.copy()
    affine[:3, 3] = source.affine[:3, :3] @ np.array([0, 0, 29]) + source.affine[:3, 3]
    path = tmp_path_factory.mktemp("tiny-ct") / "tiny.nii.gz"
    write_nifti(Volume(data, affine, modality="CT"), path)
    return path
