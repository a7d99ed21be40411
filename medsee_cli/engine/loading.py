"""Open a grounding model by registry name or folder and build a `SliceEngine` around it, once."""

from __future__ import annotations

import functools

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.model.grounding import DEFAULT_MODEL, GroundingModel


@functools.lru_cache(maxsize=2)
def _load(spec: str, device: str) -> GroundingModel:
    return GroundingModel.load(spec, device=device)


def open_engine(spec: str = DEFAULT_MODEL, options: EngineOptions = EngineOptions()) -> SliceEngine:
    """A `SliceEngine` on the named model; the model is loaded once per process and device.
    Device and precision are resolved once, by the engine (`EngineOptions`)."""
    from medsee_cli.engine.device import resolve_device

    return SliceEngine(_load(spec or DEFAULT_MODEL, str(resolve_device(options.device))), options)
