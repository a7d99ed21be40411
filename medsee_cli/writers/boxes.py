"""Boxes and measurements of each target of a label map (schema ``medsee.boxes/1``).

Voxel boxes are inclusive index ranges ``[min, max]`` on the source grid. Patient boxes are
axis-aligned in RAS+ millimetres and enclose the whole voxels (voxel corners, not centres), so
they stay correct for oblique or flipped grids.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import numpy as np
from scipy import ndimage

from medsee_cli.io.volume import Volume
from medsee_cli.writers.labels import LabelTable

BOXES_SCHEMA = "medsee.boxes/1"


def _mm_box(affine: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[list[float], list[float]]:
    corners = np.array([[a, b, c] for a in (lo[0] - 0.5, hi[0] + 0.5)
                        for b in (lo[1] - 0.5, hi[1] + 0.5) for c in (lo[2] - 0.5, hi[2] + 0.5)])
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    return _round(world.min(axis=0)), _round(world.max(axis=0))


def _round(values: Any, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def _intensity(values: np.ndarray, modality: str) -> Optional[dict[str, Any]]:
    if values.size == 0:
        return None
    return {
        "unit": "HU" if modality == "CT" else "arbitrary",
        "mean": round(float(values.mean()), 3),
        "median": round(float(np.median(values)), 3),
        "std": round(float(values.std()), 3),
        "min": round(float(values.min()), 3),
        "max": round(float(values.max()), 3),
    }


def _slice_boxes(region: np.ndarray, offset: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Per-slice 2D boxes ``[i_min, j_min, i_max, j_max]`` (inclusive) of a cropped binary mask."""
    out = []
    for dk in range(region.shape[2]):
        plane = region[:, :, dk]
        count = int(plane.sum())
        if count == 0:
            continue
        cols, rows = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
        out.append({
            "k": offset[2] + dk,
            "box": [offset[0] + int(cols[0]), offset[1] + int(rows[0]),
                    offset[0] + int(cols[-1]), offset[1] + int(rows[-1])],
            "voxels": count,
        })
    return out


def measure_targets(volume: Volume, labelmap: np.ndarray, table: LabelTable,
                    image: Optional[np.ndarray] = None) -> list[dict[str, Any]]:
    """One record per label in ``table`` (empty targets included, with ``voxel_count`` 0)."""
    labelmap = np.asarray(labelmap)
    top = max(table.values, default=0)
    slices = ndimage.find_objects(labelmap, max_label=top) if top and labelmap.any() else []
    records = []
    for label in table:
        record: dict[str, Any] = {"label": label.value, "name": label.name,
                                  "type": label.type.to_json() if label.type else None,
                                  "score": label.score}
        box = slices[label.value - 1] if label.value <= len(slices) else None
        if box is None:
            record.update(voxel_count=0, volume_ml=0.0, box_voxel=None, box_mm=None,
                          centroid_mm=None, intensity=None, slices=[])
            records.append(record)
            continue
        region = labelmap[box] == label.value
        offset = (box[0].start, box[1].start, box[2].start)
        idx = np.argwhere(region) + np.asarray(offset)
        lo, hi = idx.min(axis=0), idx.max(axis=0)
        centroid = volume.affine[:3, :3] @ idx.mean(axis=0) + volume.affine[:3, 3]
        mm_lo, mm_hi = _mm_box(volume.affine, lo, hi)
        values = np.asarray(image[box])[region] if image is not None else np.zeros(0)
        record.update(
            voxel_count=int(region.sum()),
            volume_ml=round(float(region.sum()) * volume.voxel_volume_ml, 4),
            box_voxel={"min": [int(v) for v in lo], "max": [int(v) for v in hi]},
            box_mm={"min": mm_lo, "max": mm_hi},
            centroid_mm=_round(centroid),
            intensity=_intensity(values, volume.modality),
            slices=_slice_boxes(region, offset),
        )
        records.append(record)
    return records


def boxes_document(volume: Volume, labelmap: np.ndarray, table: LabelTable,
                   image: Optional[np.ndarray] = None) -> dict[str, Any]:
    return {
        "schema": BOXES_SCHEMA,
        "coordinate_system": "RAS",
        "voxel_order": "i=column, j=row, k=slice (array index order of the source grid)",
        "grid": {
            "shape": list(volume.spatial_shape),
            "spacing_mm": _round(volume.spacing, 6),
            "affine_ras": [_round(row, 6) for row in volume.affine],
            "orientation": volume.orientation,
        },
        "targets": measure_targets(volume, labelmap, table, image),
    }


def dumps_boxes(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
