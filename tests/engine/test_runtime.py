"""The shipped model through the engine with the encoder under ONNX Runtime and under torch: the
same findings on real CT slices, and the run says which runtime it used."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsee_cli.engine.loading import open_engine
from medsee_cli.engine.options import EngineOptions
from medsee_cli.io import load_volume
from medsee_cli.io.volume import Volume
from medsee_cli.reasoning.target_text import open_target_texts
from medsee_cli.services.targets import run_targets


def test_onnx_and_torch_find_the_same_liver(shared_data: Path) -> None:
    source = load_volume(shared_data / "ct" / "patient_a" / "ct.nii.gz")
    block = Volume(np.ascontiguousarray(np.asarray(source.array())[:, :, 96:102]), source.affine, modality="CT")
    masks, runtimes = {}, {}
    for runtime in ("onnx", "torch"):
        engine = open_engine("medsee-grounding-v1", EngineOptions(runtime=runtime, skip_stride=1, fill_gaps=0))
        texts = open_target_texts(engine.model.text_encoder)
        findings, run = run_targets(engine, block, ["liver"], texts)
        runtimes[runtime] = run.stats()["runtime"]
        mask = np.zeros(block.spatial_shape, dtype=bool)
        assert findings[0].present and findings[0].region is not None
        findings[0].region.paint(mask, True)
        masks[runtime] = mask
    assert runtimes == {"onnx": "onnx", "torch": "torch"}
    a, b = masks["onnx"], masks["torch"]
    assert 2 * (a & b).sum() / (a.sum() + b.sum()) >= 0.99


def test_auto_runs_the_encoder_under_onnx_runtime_in_fp32_on_any_cpu() -> None:
    # also where the CPU computes bf16 natively: ONNX Runtime fp32 measured faster there than torch bf16
    engine = open_engine("medsee-grounding-v1", EngineOptions(device="cpu"))
    assert engine.model.runtime == "onnx" and engine.precision == "fp32"
    named = open_engine("medsee-grounding-v1", EngineOptions(device="cpu", precision="bf16"))
    assert named.model.runtime == "torch" and named.precision == "bf16"
