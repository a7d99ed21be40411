"""Open a grounding model by registry name or folder and build a `SliceEngine` around it, once."""

from __future__ import annotations

import functools
from typing import Any

from medsee_cli.engine.options import EngineOptions

DEFAULT_MODEL = "medsee-grounding-v1"


@functools.lru_cache(maxsize=2)
def _load(spec: str, device: str, bf16: bool) -> Any:
    from medsee_cli.model.grounding import GroundingModel

    return GroundingModel.load(spec, device=device, bf16=bf16)


def open_engine(spec: str = DEFAULT_MODEL, options: EngineOptions = EngineOptions()) -> Any:
    """A `SliceEngine` on the named model; the model is loaded once per process and device."""
    import torch

    from medsee_cli.engine.device import autocast_dtype, resolve_device
    from medsee_cli.engine.stream import SliceEngine

    device = resolve_device(options.device)
    if options.threads:
        torch.set_num_threads(options.threads)
    bf16 = autocast_dtype(device, options.precision) == torch.bfloat16
    model = _load(spec or DEFAULT_MODEL, str(device), bf16)
    return SliceEngine(model, options)
