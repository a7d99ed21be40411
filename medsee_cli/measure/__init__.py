"""Measurements of a mask on a volume's grid, and the one decision of what kind of image it is.

`measure` is the only place boxes, volume, centre, side and intensity statistics are computed:
the engine's findings (the answer, ``--json``) and the writers' ``boxes.json`` both serialise
the `Measurement` it returns (`Measurement.to_dict`). `effective_modality` decides once per run
whether an image is CT in Hounsfield units (a NIfTI carries no modality); the run carries that
decision to the findings, ``boxes.json`` and the preview's window.

Box axis order, everywhere: voxel boxes are inclusive index ranges in array order ``i, j, k``
(3D: ``{"min": [i, j, k], "max": [i, j, k]}``; per slice ``k``: ``[i_min, j_min, i_max, j_max]``);
millimetre boxes are axis-aligned in RAS+ ``x, y, z`` and enclose whole voxels.

Imports `medsee_cli.io` only, so the engine and the writers may both use it.
"""

from medsee_cli.measure.measurement import Intensity, Measurement, SliceBox, measure
from medsee_cli.measure.modality import effective_modality
from medsee_cli.measure.region import RegionMask

__all__ = ["Intensity", "Measurement", "RegionMask", "SliceBox", "effective_modality", "measure"]
