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
    (`EngineOptions`): ``auto`` runs the encoder under ONNX Runtime only where the engine's
    precision is fp32 on a CPU."""
    from medsee_cli.engine.device import autocast_dtype, resolve_device

    device = resolve_device(options.device)
    runtime = options.runtime
    if runtime == "auto" and (device.type != "cpu" or autocast_dtype(device, options.precision) is not None):
        runtime = "torch"
    return SliceEngine(_load(spec or DEFAULT_GROUNDING, str(device), runtime), options)
