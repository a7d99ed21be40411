"""The slice-streaming engine: a volume goes through a grounding model slice by slice.

`SliceEngine` reads slabs lazily on a background thread, prepares them while the model runs,
batches them (halving the batch on out-of-memory), skips slices a coarse pass finds empty, and
keeps per-slice results compact; `findings.finding` assembles each target in 3D (connected
components) and measures it with `medsee_cli.measure` (the one measurement the writers share).
The engine owns device and precision (`device.py`) and states what it needs of a model
(`protocol.py`); callers hand it the target text vectors (the model holds no text encoder).

Importing this package is cheap; torch loads with the submodules that need it.
"""

from medsee_cli.engine.options import EngineOptions

__all__ = ["EngineOptions"]
