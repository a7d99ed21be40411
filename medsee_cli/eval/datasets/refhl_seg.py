"""The RefHL-Seg (LSMS) on-disk layout medsee defines, and its validating loader.

The public RefHL-Seg release has no published folder layout, so medsee uses this one
(`medsee_cli.eval.datasets.refhl_convert` writes it from volumes + label maps)::

    ROOT/
      refhl.json           {"format": "medsee-refhl/1", "target": "liver_lesion",
                            "png_hu_offset": 1024 | null, "window": [centre, width] | null,
                            "pixel_spacing": [row_mm, col_mm] | null}
      splits.json          {"train": [case, ...], "val": [...], "test": [...]}   (case level)
      expressions.jsonl    {"case": C, "slice": S, "expression": TEXT, "mask": M?, "id": ID?, "target": T?}
        (or expressions.csv with the same columns)
      images/C/S.{nii.gz,nii,dcm,png}   one 2D CT slice (HU; PNG: 16-bit HU + offset, or 8-bit
                                        windowed with "window" stating how)
      masks/C/M.{png,nii.gz,nii,npy}    the lesion mask (non-zero = lesion; M defaults to S)

An expression's target is its line's ``target`` (a knowledge-base name), else refhl.json's.
Slices in NIfTI/DICOM keep their orientation; PNG slices have none (``unknown``).
Splits are by case, so slices of one patient never cross splits: a case listed in two splits,
or an expression whose case is in no split, is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsee_cli.errors import InputError
from medsee_cli.eval.datasets.records import read_json, read_records, require
from medsee_cli.eval.imaging import read_mask, read_slice
from medsee_cli.eval.items import Dataset, EvalItem, Sample, safe_id
from medsee_cli.eval.options import EvalOptions

FORMAT = "medsee-refhl/1"
IMAGE_SUFFIXES = (".nii.gz", ".nii", ".dcm", ".png")
MASK_SUFFIXES = (".png", ".nii.gz", ".nii", ".npy")


def _find(folder: Path, stem: str, suffixes: tuple[str, ...], where: str, what: str) -> Path:
    for suffix in suffixes:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    raise InputError(where, f"{what} {folder / stem}.* not found (tried {', '.join(suffixes)})")


def check_splits(splits: dict[str, Any], path: Path) -> dict[str, str]:
    """Case -> split, refusing a case that appears in two splits."""
    owner: dict[str, str] = {}
    for split, cases in splits.items():
        if not isinstance(cases, list):
            raise InputError(str(path), f"split {split!r} must be a list of case ids")
        for case in cases:
            case = str(case)
            if case in owner and owner[case] != split:
                raise InputError(str(path), f"case {case!r} is in both {owner[case]!r} and {split!r} (splits must be by case)")
            owner[case] = split
    return owner


def _loader(image: Path, mask: Path, meta: dict[str, Any]):  # noqa: ANN202
    def load() -> Sample:
        picture = read_slice(image, png_hu_offset=meta.get("png_hu_offset"))
        target = read_mask(mask)
        if picture.array.shape[:2] != target.shape:
            raise InputError(str(mask), f"mask shape {target.shape} differs from slice shape {picture.array.shape[:2]}")
        spacing, known = picture.spacing, picture.spacing_known
        if not known and meta.get("pixel_spacing"):
            spacing, known = (float(meta["pixel_spacing"][0]), float(meta["pixel_spacing"][1])), True
        window = picture.window or (tuple(meta["window"]) if meta.get("window") else (40.0, 400.0))
        return Sample(image=picture.array, target=target, spacing=spacing, spacing_known=known, window=window,
                      affine=picture.affine)

    return load


def _expressions_file(root: Path) -> Path:
    for name in ("expressions.jsonl", "expressions.csv"):
        if (root / name).is_file():
            return root / name
    raise InputError(str(root), "no expressions.jsonl or expressions.csv (see the RefHL-Seg layout in the docs)")


def load_refhl_seg(root: Path, options: EvalOptions) -> Dataset:
    if not root.is_dir():
        raise InputError(str(root), "a RefHL-Seg folder was expected (refhl.json, splits.json, expressions, images/, masks/)")
    meta = read_json(root / "refhl.json")
    if meta.get("format") != FORMAT:
        raise InputError(str(root / "refhl.json"), f"format must be {FORMAT!r}, found {meta.get('format')!r}")
    splits_path = root / "splits.json"
    splits = read_json(splits_path)
    owner = check_splits(splits, splits_path)
    if options.split not in splits:
        raise InputError(str(splits_path), f"no split {options.split!r} (have: {', '.join(sorted(splits))})")
    target = str(meta.get("target") or "liver_lesion")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    path = _expressions_file(root)
    for number, record in read_records(path):
        where = f"{path}:{number}"
        require(record, ("case", "slice", "expression"), where)
        case, slice_name = str(record["case"]), str(record["slice"])
        if case not in owner:
            raise InputError(where, f"case {case!r} is in no split of splits.json")
        if owner[case] != options.split:
            continue
        image = _find(root / "images" / case, slice_name, IMAGE_SUFFIXES, where, "slice")
        mask = _find(root / "masks" / case, str(record.get("mask") or slice_name), MASK_SUFFIXES, where, "mask")
        base = safe_id(str(record.get("id") or slice_name))
        seen[base] = seen.get(base, 0) + 1
        item_id = base if seen[base] == 1 else f"{base}_{seen[base]}"
        items.append(
            EvalItem(
                item_id=item_id,
                case_id=safe_id(case),
                target=str(record.get("target") or target),
                text=str(record["expression"]),
                ndim=2,
                load=_loader(image, mask, meta),
                split=options.split,
                source=where,
            )
        )
    if not items:
        raise InputError(str(path), f"no expressions for split {options.split!r}")
    return Dataset(name="refhl-seg", items=tuple(items), root=str(root))
