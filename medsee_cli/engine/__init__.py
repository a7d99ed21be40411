"""The slice-streaming engine: a volume goes through a grounding model slice by slice.

`SliceEngine` reads slabs lazily on a background thread, prepares them while the model runs,
batches them (halving the batch on out-of-memory), skips slices a coarse pass finds empty, and
keeps per-slice results compact; `assemble` turns them into 3D findings (connected components,
boxes in voxels and RAS millimetres, volume in mL, HU statistics).

Importing this package is cheap; torch loads with the submodules that need it.
"""

from medsee_cli.engine.options import EngineOptions

__all__ = ["EngineOptions"]
