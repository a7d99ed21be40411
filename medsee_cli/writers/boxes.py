"""Boxes and measurements of each target of a label map (schema ``medsee.boxes/1``).

The numbers are `medsee_cli.measure.measure`'s, the same the answer of ``ask``/``segment``
reports (one measurement, one rounding); this module only lays them out per label. Voxel boxes
are inclusive index ranges ``[min, max]`` on the source grid in array order ``i, j, k``;
patient boxes are axis-aligned in RAS+ millimetres and enclose the whole voxels (voxel corners,
not centres), so they stay correct for oblique or flipped grids. ``modality`` is the run's one
decision (`medsee_cli.measure.effective_modality`): CT intensities are in HU. Each slice entry
gives the array index ``k`` and the slice's number as a viewer shows it (``number``: DICOM
InstanceNumber, else counted from 1) and its table position ``table_mm`` (`io.slice_numbers`;
``slice_numbers`` at the top says which numbering applies), and ``drawn``: whether medsee drew that
outline from the slices around it instead of running the model there (thin slices, `engine.between`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy import ndimage

from medsee_cli.io.slice_numbers import SliceNumbers, slice_numbers
from medsee_cli.io.volume import Volume
from medsee_cli.measure import RegionMask, measure
from medsee_cli.writers.labels import LabelTable

BOXES_SCHEMA = "medsee.boxes/1"


def measure_targets(volume: Volume, labelmap: np.ndarray, table: LabelTable, modality: str, numbering: SliceNumbers,
                    *, intensities: bool = True) -> list[dict[str, Any]]:
    """One record per label in ``table`` (empty targets included, with ``voxel_count`` 0), slices
    numbered by ``numbering`` (the volume's `slice_numbers`); ``intensities`` off: ``volume`` is
    only the grid (no image values to summarise)."""
    labelmap = np.asarray(labelmap)
    top = max(table.values, default=0)
    boxes = ndimage.find_objects(labelmap, max_label=top) if top and labelmap.any() else []
    records = []
    for label in table:
        record: dict[str, Any] = {"label": label.value, "name": label.name,
                                  "type": label.type.to_json() if label.type else None,
                                  "score": label.score, "confidence": label.confidence}
        box = boxes[label.value - 1] if label.value <= len(boxes) else None
        region = RegionMask((box[0].start, box[1].start, box[2].start), labelmap[box] == label.value) if box is not None else None
        measured = measure(volume, region, modality, intensities=intensities) if region is not None else None
        if measured is None:
            record.update(voxel_count=0, volume_ml=0.0, box_voxel=None, box_mm=None, size_mm=None,
                          centroid_mm=None, side="", intensity=None, slices=[])
        else:
            values = measured.to_dict()
            drawn = set(label.drawn)
            for entry in values["slices"]:  # the numbers a viewer shows beside the array index k
                entry["number"], entry["table_mm"] = numbering.number(entry["k"]), numbering.table(entry["k"])
                entry["drawn"] = entry["k"] in drawn
            record.update(voxel_count=values.pop("voxels"), **values)
        records.append(record)
    return records


def boxes_document(volume: Volume, labelmap: np.ndarray, table: LabelTable, modality: str, *,
                   intensities: bool = True) -> dict[str, Any]:
    numbering = slice_numbers(volume)
    return {
        "schema": BOXES_SCHEMA,
        "coordinate_system": "RAS",
        "voxel_order": "i=column, j=row, k=slice (array index order of the source grid)",
        "grid": {
            "shape": list(volume.spatial_shape),
            "spacing_mm": [round(float(v), 6) for v in volume.spacing],
            "affine_ras": [[round(float(v), 6) for v in row] for row in volume.affine],
            "orientation": volume.orientation,
        },
        "slice_numbers": numbering.to_dict(),
        "targets": measure_targets(volume, labelmap, table, modality, numbering, intensities=intensities),
    }


def dumps_boxes(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
