"""Build the RefHL-Seg layout from a folder of volumes, label maps and expressions.

Input::

    volumes/CASE.nii.gz (or .nrrd/.mha, or a DICOM folder CASE/)   CT in HU
    labels/CASE.nii.gz                                            label map on the same grid
    expressions.jsonl   {"case": CASE, "expression": TEXT, "label": 2?, "target": NAME?, "slices": [k, ...]?}
    label names (optional, ``label_names``): {"1": "liver", "2": "liver_lesion"}

For each expression line, every slice ``k`` (third array axis: axial for axial scans) where the
label (default: any non-zero) is present, or the listed ``slices``, becomes one item. The item's
target is the line's ``target``, else the name of its ``label``, else ``ConvertOptions.target``
(for lines without a label); it must be a knowledge-base name. Slices are written as
single-slice NIfTI (HU, spacing and orientation kept) or 16-bit PNG (HU + 1024; no
orientation), masks as PNG 0/255. Cases are split train/val/test by a seeded shuffle of case
ids, at least one case in every split with a positive ratio (too few cases is an error). Inputs
are only read; every output file is written atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsee_cli.errors import InputError
from medsee_cli.eval.datasets.records import read_records, require
from medsee_cli.eval.datasets.refhl_seg import FORMAT
from medsee_cli.eval.imaging import mask_from
from medsee_cli.eval.items import safe_id

PNG_HU_OFFSET = 1024


@dataclass(frozen=True)
class ConvertOptions:
    ratios: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test
    seed: int = 0
    image_format: str = "nii.gz"  # or "png"
    target: str = "liver_lesion"  # for lines with neither a target nor a named label
    label_names: tuple[tuple[int, str], ...] = ()  # label value -> knowledge-base name
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.image_format not in ("nii.gz", "png"):
            raise ValueError("image_format must be 'nii.gz' or 'png'")
        if len(self.ratios) != 3 or any(r < 0 for r in self.ratios) or sum(self.ratios) <= 0:
            raise ValueError("ratios must be three non-negative numbers (train, val, test)")


def split_cases(cases: list[str], ratios: tuple[float, float, float], seed: int) -> dict[str, list[str]]:
    """A seeded case-level split; every split with a positive ratio gets a case when there are enough."""
    order = sorted(set(cases))
    np.random.default_rng(seed).shuffle(order)
    total = sum(ratios)
    counts = [0] + [int(round(len(order) * r / total)) for r in ratios[1:]]
    positive = sum(1 for r in ratios if r > 0)
    if len(order) < positive:
        wanted = ", ".join(n for n, r in zip(("train", "val", "test"), ratios) if r > 0)
        raise InputError("splits", f"{len(order)} case(s) cannot fill {positive} splits ({wanted}): every split needs a "
                                   "case of its own (add cases, or give a zero ratio to a split you do not need)")
    for index in (2, 1):  # a small dataset still gets a test (then a val) case, taken from train
        if ratios[index] > 0 and counts[index] == 0 and len(order) >= positive:
            counts[index] = 1
    counts[0] = max(0, len(order) - counts[1] - counts[2])
    bounds = np.cumsum([0] + counts)
    names = ("train", "val", "test")
    return {names[i]: sorted(order[bounds[i] : bounds[i + 1]]) for i in range(3)}


def target_of(record: dict, options: ConvertOptions, where: str) -> str:
    """The knowledge-base target an expression line refers to (see the module docstring)."""
    from medsee_cli.reasoning.knowledge import load_knowledge

    names = dict(options.label_names)
    label = record.get("label")
    if record.get("target"):
        target = str(record["target"])
    elif label not in (None, "") and int(label) in names:
        target = names[int(label)]
    elif label in (None, ""):
        target = options.target
    else:
        raise InputError(where, f"label {label} has no name: give the line a 'target' or the label names (--label-names)")
    if target not in load_knowledge():
        raise InputError(where, f"target {target!r} is not a knowledge-base name")
    return target


def _find_volume(folder: Path, case: str, what: str) -> Path:
    for suffix in (".nii.gz", ".nii", ".nrrd", ".mha", ""):
        candidate = folder / f"{case}{suffix}"
        if candidate.exists():
            return candidate
    raise InputError(str(folder / case), f"no {what} for case {case!r}")


def _write_slice(volume, k: int, target: Path, options: ConvertOptions) -> None:  # noqa: ANN001
    from medsee_cli.io import Volume, write_nifti
    from medsee_cli.io.atomic import atomic_path

    data = np.asarray(volume.dataobj[:, :, k : k + 1])
    if options.image_format == "nii.gz":
        shift = np.eye(4)
        shift[2, 3] = k
        write_nifti(Volume(dataobj=data, affine=volume.affine @ shift, modality=volume.modality), target, overwrite=options.overwrite)
        return
    from PIL import Image

    values = np.clip(np.rint(data[:, :, 0].T) + PNG_HU_OFFSET, 0, 65535).astype(np.uint16)
    with atomic_path(target, overwrite=options.overwrite) as tmp:
        Image.fromarray(values).save(tmp, format="PNG")


def _write_mask(mask2d: np.ndarray, target: Path, overwrite: bool) -> None:
    from PIL import Image

    from medsee_cli.io.atomic import atomic_path

    with atomic_path(target, overwrite=overwrite) as tmp:
        Image.fromarray(np.where(mask2d.T, 255, 0).astype(np.uint8)).save(tmp, format="PNG")


def convert_to_refhl(volumes: Path, labels: Path, expressions: Path, out: Path, options: ConvertOptions) -> dict[str, int]:
    """Write the layout under ``out``; returns counts of cases, slices and expressions."""
    from medsee_cli.io import load_volume
    from medsee_cli.io.atomic import write_text_atomic

    if (out / "refhl.json").exists() and not options.overwrite:
        from medsee_cli.errors import OutputExistsError

        raise OutputExistsError(str(out / "refhl.json"))
    records = []
    for number, record in read_records(expressions):
        require(record, ("case", "expression"), f"{expressions}:{number}")
        records.append((number, record))
    if not records:
        raise InputError(str(expressions), "no expressions")
    lines, written = [], set()
    targets = {number: target_of(record, options, f"{expressions}:{number}") for number, record in records}
    # too few cases for the splits fails here, before anything is written
    splits = split_cases([safe_id(str(r["case"])) for _, r in records], options.ratios, options.seed)
    for number, record in records:
        where = f"{expressions}:{number}"
        case = safe_id(str(record["case"]))
        volume = load_volume(_find_volume(volumes, str(record["case"]), "volume"))
        label_map = np.asarray(load_volume(_find_volume(labels, str(record["case"]), "label map")).array())
        if label_map.shape[:3] != volume.spatial_shape:
            raise InputError(where, f"label map shape {label_map.shape} differs from volume shape {volume.spatial_shape}")
        label = record.get("label")
        mask = mask_from(label_map, _find_volume(labels, str(record["case"]), "label map"), label)
        slices = record.get("slices") or [int(k) for k in np.flatnonzero(mask.any(axis=(0, 1)))]
        tag = "any" if label in (None, "") else f"l{int(label)}"
        for k in slices:
            k = int(k)
            if not 0 <= k < mask.shape[2]:
                raise InputError(where, f"slice {k} outside the volume (0..{mask.shape[2] - 1})")
            slice_name = f"{case}_k{k:04d}"
            if (case, k) not in written:
                _write_slice(volume, k, out / "images" / case / f"{slice_name}.{options.image_format}", options)
                written.add((case, k))
            mask_name = f"{slice_name}_{tag}"
            mask_path = out / "masks" / case / f"{mask_name}.png"
            if not mask_path.exists() or options.overwrite:
                _write_mask(mask[:, :, k], mask_path, options.overwrite)
            lines.append({"case": case, "slice": slice_name, "mask": mask_name, "expression": str(record["expression"]),
                          "target": targets[number]})
    cases = sorted({line["case"] for line in lines})

    meta = {
        "format": FORMAT,
        "target": options.target,
        "png_hu_offset": PNG_HU_OFFSET if options.image_format == "png" else None,
        "window": [40, 400],
    }
    write_text_atomic(out / "refhl.json", json.dumps(meta, indent=2) + "\n", overwrite=options.overwrite)
    write_text_atomic(out / "splits.json", json.dumps(splits, indent=2) + "\n", overwrite=options.overwrite)
    text = "".join(json.dumps(line) + "\n" for line in lines)
    write_text_atomic(out / "expressions.jsonl", text, overwrite=options.overwrite)
    return {"cases": len(cases), "slices": len(written), "expressions": len(lines)}
