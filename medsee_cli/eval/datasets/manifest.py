"""A generic JSONL manifest: any mix of 2D slices and 3D volumes with masks or label maps.

One line per item::

    {"image": PATH, "text": "the left kidney",          # required
     "mask": PATH                                        # binary mask (non-zero = target), or
     "labels": PATH, "label": 3,                         # a label map and the target's value
     "id": ID?, "case": CASE?, "target": NAME?, "split": "test"?,
     "slice": K?,                                        # take 2D slice K (third axis) of a volume
     "ndim": 2 | 3?,                                     # force 2D for single-slice NIfTI
     "orientation": "display" | "unknown"?,             # 2D pictures: shown radiologically, or not known
     "box": [x0, y0, x1, y1] | [i0, j0, k0, i1, j1, k1]?}  # pixel-edge box, else from the mask

Paths are relative to the manifest's folder. Images: NIfTI/NRRD/MHA or DICOM folder (3D),
PNG/DICOM file/NIfTI slice/.npy (2D). Lines whose ``split`` differs from the requested one are
skipped; lines without ``split`` belong to every split.

Orientation: volumes, volume slices, NIfTI and DICOM slices carry their file's geometry. A
picture (PNG, .npy) has none: it is ``unknown`` unless the line says ``"orientation":
"display"`` (rows anterior to posterior, the patient's right on the left). ``"unknown"`` on a
NIfTI/DICOM slice discards a geometry the file holds but does not mean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.datasets.records import as_box, read_records, require, resolve
from medsee_cli.io.load import PICTURE_SUFFIXES
from medsee_cli.eval.imaging import mask_from, read_grid, read_mask, read_slice, read_volume
from medsee_cli.eval.items import Dataset, EvalItem, Sample, plane_affine, plane_of, safe_id
from medsee_cli.io.plane_view import display_affine
from medsee_cli.eval.options import EvalOptions


def _is_2d(path: Path, record: dict[str, Any]) -> bool:
    if record.get("slice") is not None:
        return True
    if record.get("ndim") is not None:
        return int(record["ndim"]) == 2
    name = path.name.lower()
    if name.endswith(PICTURE_SUFFIXES) or name.endswith(".dcm"):
        return True
    if name.endswith(".npy"):
        return np.load(path, mmap_mode="r", allow_pickle=False).ndim == 2
    return False


def _target_array(mask: Path | None, labels: Path | None, label: Any, two_d: bool) -> np.ndarray:
    path = mask if mask is not None else labels
    assert path is not None
    if two_d and path.name.lower().endswith(PICTURE_SUFFIXES + (".dcm",)):
        array = read_mask(path) if mask is not None else read_slice(path).array
    elif path.name.lower().endswith(".npy"):
        array = np.load(path, allow_pickle=False)
    else:
        array = read_volume(path)[0]
    return mask_from(array, path, None if mask is not None else label)


def _picture_affine(record: dict[str, Any], found: np.ndarray | None, spacing: tuple[float, float]) -> np.ndarray | None:
    orientation = record.get("orientation")
    if orientation == "unknown":
        return None
    if orientation == "display" and found is None:
        return display_affine(spacing)
    return found


def _loader(image: Path, mask: Path | None, labels: Path | None, record: dict[str, Any], two_d: bool, where: str):  # noqa: ANN202
    def load() -> Sample:
        box = tuple(float(v) for v in record["box"]) if record.get("box") else None
        k = record.get("slice")
        if two_d and k is None:
            picture = read_slice(image)
            target = _target_array(mask, labels, record.get("label"), True)
            if target.ndim == 3:  # a single-slice NIfTI or .npy mask
                target = target[:, :, 0].T
            return Sample(image=picture.array, target=target, spacing=picture.spacing, box=box,
                          spacing_known=picture.spacing_known, window=picture.window,
                          affine=_picture_affine(record, picture.affine, picture.spacing))
        array, spacing, affine = read_grid(image)
        target = _target_array(mask, labels, record.get("label"), False)
        if target.shape != array.shape:
            raise InputError(where, f"mask shape {target.shape} differs from image shape {array.shape}")
        if k is None:
            return Sample(image=array, target=target, spacing=spacing, box=box, affine=affine)
        k = int(k)
        if not 0 <= k < array.shape[2]:
            raise InputError(where, f"slice {k} outside the volume (0..{array.shape[2] - 1})")
        return Sample(image=plane_of(array, k), target=plane_of(target, k), spacing=(spacing[1], spacing[0]), box=box,
                      affine=_picture_affine(record, plane_affine(affine, k), (spacing[1], spacing[0])))

    return load


def load_manifest(root: Path, options: EvalOptions) -> Dataset:
    path = root / "manifest.jsonl" if root.is_dir() else root
    base = path.parent
    items: list[EvalItem] = []
    for number, record in read_records(path):
        where = f"{path}:{number}"
        require(record, ("image", "text"), where)
        if record.get("split") not in (None, "", options.split):
            continue
        if not record.get("mask") and not (record.get("labels") and record.get("label") not in (None, "")):
            raise InputError(where, "needs 'mask', or 'labels' with 'label'")
        image = resolve(base, str(record["image"]), where)
        mask = resolve(base, str(record["mask"]), where) if record.get("mask") else None
        labels = resolve(base, str(record["labels"]), where) if mask is None else None
        two_d = _is_2d(image, record)
        if record.get("orientation") not in (None, "", "display", "unknown"):
            raise InputError(where, f"orientation must be 'display' or 'unknown', got {record.get('orientation')!r}")
        if record.get("box") is not None:
            record = {**record, "box": as_box(record["box"], where, 4 if two_d else 6)}
        item_id = safe_id(str(record.get("id") or f"{number:05d}_{image.name.split('.')[0]}"))
        items.append(
            EvalItem(
                item_id=item_id,
                case_id=safe_id(str(record.get("case") or image.name.split(".")[0])),
                target=str(record.get("target") or record["text"]),
                text=str(record["text"]),
                ndim=2 if two_d else 3,
                load=_loader(image, mask, labels, record, two_d, where),
                split=options.split,
                source=where,
                cut=int(record["slice"]) if record.get("slice") is not None else None,
            )
        )
    if not items:
        raise InputError(str(path), f"no items for split {options.split!r}")
    ids = [item.item_id for item in items]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InputError(str(path), f"item id {duplicate!r} appears more than once")
    return Dataset(name="manifest", items=tuple(items), root=str(root))
