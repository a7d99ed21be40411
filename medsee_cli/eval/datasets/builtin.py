"""The built-in benchmark: real CT/MR from the shared data folder, cut into referring items.

Per source volume and target structure it makes one 3D item, 2D items at quantiles of the
target's extent along k, and one 2D item on a slice where the target is absent (the correct
answer there is an empty mask). A synthetic hypodense lesion is inserted into the CT liver for
a lesion target. Which sources, targets, expressions and slices: ``builtin.yaml``.

Honesty about labels: the CT and abdominal MR labels are TotalSegmentator model output, not
manual ground truth; the brain and breast tumour labels are pyradiomics' example labels. Scores
on this benchmark measure agreement with those labels.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from medsee_cli.errors import InputError
from medsee_cli.eval.items import Dataset, EvalItem, Sample, plane_affine, plane_of
from medsee_cli.eval.options import EvalOptions


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    text = resources.files("medsee_cli.eval.datasets").joinpath("builtin.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class _Loaded:
    image: np.ndarray
    labels: dict[str, np.ndarray]
    spacing: tuple[float, float, float]
    window: tuple[float, float] | None
    affine: np.ndarray


def insert_lesion(image: np.ndarray, organ: np.ndarray, spacing: tuple[float, ...], rule: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """A spherical hypodense lesion deep inside ``organ``: (new image, lesion mask)."""
    from scipy import ndimage

    # pad so that the edge of the scanned field counts as the organ's boundary
    depth = ndimage.distance_transform_edt(np.pad(organ, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    centre = np.unravel_index(int(np.argmax(depth)), organ.shape)
    radius = min(float(rule["radius_mm"]), 0.8 * float(depth[centre]))
    grids = np.meshgrid(*[(np.arange(n) - c) * s for n, c, s in zip(organ.shape, centre, spacing)], indexing="ij")
    lesion = (sum(g**2 for g in grids) <= radius**2) & organ
    rng = np.random.default_rng(int(rule.get("seed", 0)))
    out = image.astype(np.float32, copy=True)
    noise = rng.normal(0.0, float(rule.get("noise_hu", 0.0)), size=int(lesion.sum()))
    out[lesion] += float(rule["delta_hu"]) + noise
    return out, lesion


def _load_source(root: Path, source: dict[str, Any]) -> _Loaded:
    from medsee_cli.io import load_volume

    volume = load_volume(root / source["image"])
    label_map = np.asarray(load_volume(root / source["labels"]).array())
    if source.get("labelmap"):
        names = json.loads((root / "labelmap_total.json").read_text())[source["labelmap"]]
        ids = {name: int(key) for key, name in names.items()}
    else:
        ids = {name: int(key) for key, name in source["label_names"].items()}
    labels = {}
    for target in source["targets"]:
        if target not in ids:
            raise InputError(str(root / source["labels"]), f"no label named {target!r}")
        labels[target] = label_map == ids[target]
    image = volume.array().astype(np.float32)
    for rule in source.get("synthetic_lesions", ()):
        image, labels[rule["target"]] = insert_lesion(image, labels[rule["organ"]], volume.spacing, rule)
    window = (float(source["window"][0]), float(source["window"][1])) if source.get("window") else None
    return _Loaded(image=image, labels=labels, spacing=volume.spacing, window=window, affine=np.asarray(volume.affine))


def _slices_for(mask: np.ndarray, rules: dict[str, Any]) -> list[int]:
    present = np.flatnonzero(mask.any(axis=(0, 1)))
    lo, hi = int(present[0]), int(present[-1])
    chosen = []
    for q in rules["quantiles"]:
        k = lo + int(round(q * (hi - lo)))
        if mask[:, :, k].any() and k not in chosen:
            chosen.append(k)
    gap = int(rules["absent_gap"])
    for k in (hi + gap, lo - gap):
        if 0 <= k < mask.shape[2]:
            chosen.append(k)
            break
    return chosen


def _item_loader(loaded: _Loaded, target: str, k: int | None):  # noqa: ANN202
    def load() -> Sample:
        mask = loaded.labels[target]
        if k is None:
            return Sample(image=loaded.image, target=mask, spacing=loaded.spacing, window=loaded.window, affine=loaded.affine)
        s = loaded.spacing
        return Sample(image=plane_of(loaded.image, k), target=plane_of(mask, k), spacing=(s[1], s[0]),
                      window=loaded.window, affine=plane_affine(loaded.affine, k))

    return load


def _check_names(config: dict[str, Any]) -> None:
    """Every target of the benchmark is a knowledge-base name (one vocabulary across medsee)."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    kb = load_knowledge()
    for source in config["sources"]:
        unknown = [t for t in source["targets"] if t not in kb]
        if unknown:
            raise InputError(f"builtin.yaml source {source['id']}", f"targets not in the knowledge base: {', '.join(unknown)}")


def load_builtin(root: Path | None, options: EvalOptions) -> Dataset:
    from medsee_cli.io.data_root import data_root

    found = data_root(root)
    if found is None or not (found / "ct" / "patient_a" / "ct.nii.gz").is_file():
        raise InputError(str(found or "--root"), "the shared data folder was not found (give --root DIR or set MEDSEE_DATA)")
    root = found
    config = spec()
    _check_names(config)
    items: list[EvalItem] = []
    notes = []
    for source in config["sources"]:
        loaded = _load_source(root, source)
        notes.append(f"{source['id']}: labels are {source['label_origin']}")
        for target, mask in loaded.labels.items():
            if int(mask.sum()) < int(config["slices"]["min_voxels"]):
                continue
            phrases = config["expressions"].get(target) or [f"the {target.replace('_', ' ')}"]
            cuts: list[int | None] = [None, *_slices_for(mask, config["slices"])]
            for index, k in enumerate(cuts):
                suffix = "3d" if k is None else f"k{k:03d}"
                items.append(
                    EvalItem(
                        item_id=f"{source['id']}.{target}.{suffix}",
                        case_id=source["id"],
                        target=target,
                        text=phrases[index % len(phrases)],
                        ndim=3 if k is None else 2,
                        load=_item_loader(loaded, target, k),
                        split=options.split,
                        source=f"{source['image']} ({suffix})",
                        cut=k,
                        origin=str(source["image"]),
                    )
                )
    return Dataset(name="builtin", items=tuple(items), notes=tuple(notes), root=str(root))
