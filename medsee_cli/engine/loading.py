"""Open a grounding model by registry name or folder and build a `SliceEngine` around it, once."""

from __future__ import annotations

import functools

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.model.grounding import GroundingModel
from medsee_cli.model.registry import DEFAULT_GROUNDING


@functools.lru_cache(maxsize=2)
def _load(spec: str, device: str, runtime: str) -> GroundingModel:
    return GroundingModel.load(spec, device=device, runtime=runtime)


def open_engine(spec: str = DEFAULT_GROUNDING, options: EngineOptions = EngineOptions()) -> SliceEngine:
    """A `SliceEngine` on the named model; the model is loaded once per process, device and
    encoder runtime. Device, precision and runtime are resolved once, here and by the engine
    (`EngineOptions`): on a CPU, ``auto`` runs the encoder under ONNX Runtime in fp32 unless a
    lower precision is asked for by name, also where the CPU computes bf16 natively (measured
    there: 0.49 s per slice under ONNX Runtime fp32 vs 0.55 s torch bf16 and 1.09 s torch fp32,
    `bench/encoder_runtime.py`); where the encoder cannot be opened, torch at ``auto`` precision."""
    from medsee_cli.engine.device import autocast_dtype, resolve_device

    device = resolve_device(options.device)
    runtime = options.runtime
    if runtime == "auto" and (device.type != "cpu" or (options.precision != "auto"
                                                       and autocast_dtype(device, options.precision) is not None)):
        runtime = "torch"
    return SliceEngine(_load(spec or DEFAULT_GROUNDING, str(device), runtime), options)
