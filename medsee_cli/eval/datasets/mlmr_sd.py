"""MLMR-SD (MediSee) layout: a ``{split}.jsonl`` of 2D images with PNG masks, queries and boxes.

Each line: ``{"image": PATH, "mask": PATH, "class_text": TARGET, "long": QUERY, "short": QUERY,
"bbox": [x0/W, y0/H, x1/W, y1/H]}``. Paths are relative to the JSONL's folder (or the dataset
root). Masks are PNG with 255 (any non-zero) as foreground. The query is the long, colloquial
one unless ``query="short"``. Item ids are ``{line:05d}_{image stem}``; every image is its own
case. PNG has no physical spacing, so surface metrics are in pixels for this dataset.
"""

from __future__ import annotations

from pathlib import Path

from medsee_cli.errors import InputError
from medsee_cli.eval.datasets.records import as_box, read_records, require, resolve
from medsee_cli.eval.imaging import read_mask, read_slice
from medsee_cli.eval.items import Dataset, EvalItem, Sample, safe_id
from medsee_cli.eval.options import EvalOptions


def find_annotations(root: Path, split: str) -> Path:
    if root.is_file():
        return root
    if not root.is_dir():
        raise InputError(str(root), "no such MLMR-SD file or folder")
    direct = root / f"{split}.jsonl"
    if direct.is_file():
        return direct
    matches = sorted(root.glob(f"*{split}*.jsonl"))
    if len(matches) == 1:
        return matches[0]
    found = ", ".join(p.name for p in sorted(root.glob("*.jsonl"))) or "none"
    raise InputError(str(root), f"expected {split}.jsonl (JSONL files found: {found})")


def _loader(image: Path, mask: Path, bbox: tuple[float, ...]):  # noqa: ANN202
    def load() -> Sample:
        picture = read_slice(image)
        target = read_mask(mask)
        if picture.array.shape[:2] != target.shape:
            raise InputError(str(mask), f"mask shape {target.shape} differs from image shape {picture.array.shape[:2]}")
        height, width = target.shape
        box = (bbox[0] * width, bbox[1] * height, bbox[2] * width, bbox[3] * height)
        return Sample(image=picture.array, target=target, spacing=(1.0, 1.0), box=box, spacing_known=False)

    return load


def load_mlmr_sd(root: Path, options: EvalOptions) -> Dataset:
    path = find_annotations(root, options.split)
    base = path.parent
    fallback = root if root.is_dir() else None
    items = []
    for number, record in read_records(path):
        where = f"{path}:{number}"
        require(record, ("image", "mask", "bbox", options.query), where)
        image = resolve(base, str(record["image"]), where, fallback=fallback)
        mask = resolve(base, str(record["mask"]), where, fallback=fallback)
        bbox = as_box(record["bbox"], where)
        if not all(-1e-6 <= v <= 1 + 1e-6 for v in bbox):
            raise InputError(where, f"bbox {list(bbox)} is not normalised to [0, 1] (MediSee stores x/W, y/H)")
        items.append(
            EvalItem(
                item_id=f"{number:05d}_{safe_id(image.stem)}",
                case_id=safe_id(image.stem),
                target=str(record.get("class_text") or "target"),
                text=str(record[options.query]),
                ndim=2,
                load=_loader(image, mask, bbox),
                split=options.split,
                source=where,
            )
        )
    if not items:
        raise InputError(str(path), "no items in this file")
    return Dataset(name="mlmr-sd", items=tuple(items), root=str(root), notes=(f"query: {options.query}",))
