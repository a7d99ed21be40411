"""The shipped model on every dataset layout `medsee eval` reads, built from the shared data folder.

    .venv/bin/python bench/eval_layouts.py [--data ../shared/data] [--out bench/results/eval] [--model NAME]
                                           [--only builtin,mlmr-sd,refhl-seg]

- builtin: the built-in benchmark as it is (3D and 2D items, each with its real orientation).
- mlmr-sd: every 2D builtin item whose target is present, rewritten in MediSee's MLMR-SD layout:
  8-bit pre-windowed grey PNG without geometry, normalised boxes, the colloquial long queries of
  bench/data/mlmr_queries.yaml (written before any score was seen) and short ones ("the liver").
  Two layouts: the orientation the array is stored in (some pictures posterior-up or mirrored),
  and `d8`: the radiological view turned by the item's running number (every eighth item each of
  the 8 flips/rotations). Each scored with --query long and --query short.
- refhl-seg: the four DeepLesion slabs (real lesions) through `medsee convert-refhl` (single-slice
  NIfTI with geometry), every slice with lesion an item, all cases in the test split.

Every run writes its report folder (summary.json records the model and item hash) and this script
prints one table row per dataset; the held-out rows exclude the model's training record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
MEDSEE = [sys.executable, "-m", "medsee_cli"]


def _window(image: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    if image.max() <= 255 and image.min() >= 0 and window is None:
        return np.clip(image, 0, 255).astype(np.uint8)  # already 8-bit (DeepLesion)
    if window is None:  # MR: 1st-99th percentile
        low, high = np.percentile(image, (1, 99))
    else:
        low, high = window[0] - window[1] / 2, window[0] + window[1] / 2
    return (np.clip((image - low) / max(high - low, 1e-6), 0, 1) * 255).round().astype(np.uint8)


def _turn_of(n: int, orientation: str) -> int | None:
    """The turn of the radiological view item ``n`` is written in (``d8``: the running number mod 8,
    so every eighth item each of the 8 flips/rotations; ``turnN``: N; ``display``: 0); None as stored."""
    if orientation == "stored":
        return None
    return n % 8 if orientation == "d8" else int(orientation[4:]) if orientation.startswith("turn") else 0


def _oriented(sample, turn: int | None) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(picture, mask) of a 2D item: as stored (``turn`` None), or the radiological view turned."""
    from medsee_cli.io.plane_view import plane_view
    from medsee_cli.model.picture_view import turned

    picture = _window(np.asarray(sample.image, dtype=np.float32), sample.window)
    mask = np.asarray(sample.target)
    if turn is None:
        return picture, mask
    view = plane_view(sample.affine)
    return turned(view.to_display(picture), turn), turned(view.to_display(mask), turn)


def build_mlmr_sd(data: Path, out: Path, orientation: str = "stored") -> Path:
    from PIL import Image

    from medsee_cli.eval import EvalOptions, load_dataset

    queries = yaml.safe_load((ROOT / "bench" / "data" / "mlmr_queries.yaml").read_text())
    builtin = load_dataset("builtin", data, EvalOptions())
    short = yaml.safe_load((ROOT / "medsee_cli" / "eval" / "datasets" / "builtin.yaml").read_text())["expressions"]
    lines, seen = [], {}
    for item in builtin.items:
        if item.ndim != 2:
            continue
        sample = item.load()
        if not sample.target.any():
            continue
        n = seen[item.target] = seen.get(item.target, -1) + 1
        turn = _turn_of(len(lines), orientation)
        picture, target = _oriented(sample, turn)
        (out / "images").mkdir(parents=True, exist_ok=True)
        (out / "masks").mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture).save(out / "images" / f"{item.item_id}.png")
        Image.fromarray(np.where(target, 255, 0).astype(np.uint8)).save(out / "masks" / f"{item.item_id}.png")
        rows, cols = np.flatnonzero(target.any(axis=1)), np.flatnonzero(target.any(axis=0))
        height, width = target.shape
        lines.append({"image": f"images/{item.item_id}.png", "mask": f"masks/{item.item_id}.png", "class_text": item.target,
                      **({"turn": turn} if turn is not None else {}),  # for bench/picture_view_eval.py
                      "long": queries[item.target][n % len(queries[item.target])],
                      "short": short[item.target][0],
                      "bbox": [cols[0] / width, rows[0] / height, (cols[-1] + 1) / width, (rows[-1] + 1) / height]})
    (out / "test.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out


def build_refhl(data: Path, out: Path) -> Path:
    raw = out.parent / "deeplesion_raw"
    for kind in ("volumes", "labels"):
        (raw / kind).mkdir(parents=True, exist_ok=True)
    lines = []
    texts = ["the lesion", "the mass on this slice", "the enlarged lymph node or tumour"]
    for n, image in enumerate(sorted((data / "ct" / "lesions_deeplesion").glob("*_image.nii.gz"))):
        case = image.name.replace("_image.nii.gz", "")
        for kind, source in (("volumes", image), ("labels", image.with_name(f"{case}_lesion.nii.gz"))):
            link = raw / kind / f"{case}.nii.gz"
            if not link.exists():
                link.symlink_to(source.resolve())
        lines.append({"case": case, "expression": texts[n % len(texts)], "label": 1, "target": "lesion"})
    (raw / "expressions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    subprocess.run([*MEDSEE, "convert-refhl", str(raw / "volumes"), str(raw / "labels"), str(raw / "expressions.jsonl"),
                    "--out", str(out), "--ratios", "0,0,1", "--overwrite"], check=True)
    return out


def score(dataset: str, root: Path | None, out: Path, model: str, extra: list[str]) -> dict:
    args = [*MEDSEE, "eval", "--dataset", dataset, "--model", model, "--out", str(out), "--overwrite", "--json", *extra]
    if root is not None:
        args += ["--root", str(root)]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{dataset}: {done.stderr.strip()}")
    summary = json.loads((out / "summary.json").read_text())
    summary["wall_s"] = time.perf_counter() - started
    return summary


def row(name: str, summary: dict) -> str:
    def f(v: object) -> str:
        return "–" if v is None else f"{v:.3f}"

    s = summary["summary"]
    held = summary.get("by_exposure", {}).get("held_out")
    held_text = f"{held['n']}: gIoU {f(held['giou'])}, Dice {f(held['dice'])}" if held else "–"
    return (f"| {name} | {s['n']} ({s['n_3d']} 3D) | {f(s['giou'])} | {f(s['ciou'])} | {f(s['dice'])} | "
            f"{f(s['box_acc50'])} | {held_text} | {len(summary['failed'])} | {summary['wall_s']:.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "eval")
    parser.add_argument("--model", default="medsee-grounding-v1")
    parser.add_argument("--only", default="builtin,mlmr-sd,refhl-seg")
    args = parser.parse_args()
    from medsee_cli.io.data_root import data_root

    data = data_root(args.data)
    if data is None or not data.is_dir():
        raise SystemExit("the shared data folder was not found (give --data or set MEDSEE_DATA)")
    wanted = args.only.split(",")
    rows = []
    if "builtin" in wanted:
        rows.append(row("builtin (3D + 2D, real orientation)", score("builtin", data, args.out / "builtin", args.model, [])))
    if "mlmr-sd" in wanted:
        for orientation, folder in (("stored", "mlmr_sd"), ("d8", "mlmr_sd_d8")):
            layout = build_mlmr_sd(data, args.out / f"{folder}_data", orientation)
            for query in ("long", "short"):
                summary = score("mlmr-sd", layout, args.out / f"{folder}_{query}", args.model, ["--query", query])
                rows.append(row(f"mlmr-sd layout, {query} queries (8-bit PNG, {orientation} orientation)", summary))
    if "refhl-seg" in wanted:
        layout = build_refhl(data, args.out / "refhl_data")
        rows.append(row("refhl-seg layout: DeepLesion real lesions", score("refhl-seg", layout, args.out / "refhl", args.model, [])))
    print("| dataset | items | gIoU | cIoU | Dice | box Acc@0.5 | held-out items: gIoU, Dice | failed | wall |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
