"""End to end on pictures without geometry: the MLMR-SD layout in all 8 turns, with the turn taken four ways.

    .venv/bin/python bench/picture_view_eval.py [--data ../shared/data] [--out bench/results/picture_view_eval]
                                                [--query long|short]

Run `bench/picture_view.py` first: it leaves each patient out of the picture-view network in turn and
saves each fold's network under bench/results/picture_view/GROUP. The layout is bench/eval_layouts.py's
`d8` MLMR-SD layout (every 2D builtin item with its target present, 8-bit PNG, the radiological view
turned by the item's running number). Every item goes through `eval --model`'s path (reasoning, target
rule, engine, guard) with the grounding model medsee-grounding-v1; only how the picture is turned back
differs:
- as stored: taken as already radiological (what eval did before the picture-view network);
- held out: the fold network that never saw the item's patient names the turn (the honest figure);
- shipped: the shipped network (trained on every patient here, so optimistic);
- true turn: the turn the layout applied (the ceiling the grounding model allows).
Prints one row per way: gIoU, cIoU, Dice, box Acc@0.5 and the share of items whose turn was right.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "picture_view_eval")
    parser.add_argument("--query", default="long", choices=("long", "short"))
    args = parser.parse_args()
    from eval_layouts import build_mlmr_sd

    from medsee_cli.eval import EvalOptions, PredictorSource, evaluate, load_dataset
    from medsee_cli.eval.engine_predictor import load_predictor
    from medsee_cli.eval.items import Dataset, EvalItem, Sample
    from medsee_cli.eval.summary import summarise
    from medsee_cli.model.picture_view import PictureView, load_view_net
    from medsee_cli.training.picture_view import recipe

    layout = build_mlmr_sd(args.data.resolve(), args.out / "layout", "d8")
    lines = [json.loads(line) for line in (layout / "test.jsonl").read_text().splitlines()]
    turn_of = {Path(line["image"]).stem: int(line["turn"]) for line in lines}
    options = EvalOptions(split="test", query=args.query, surface=False, worst=0)
    dataset = load_dataset("mlmr-sd", layout, options)
    group_of = {str(s["name"]): str(s["group"]) for s in recipe(args.data.resolve())["sources"]}
    folds = ROOT / "bench" / "results" / "picture_view"

    def patient(item: EvalItem) -> str:  # ct_patient_a.liver.k079 -> ct_patient_a; ct_deeplesion_000001 -> deeplesion_000001
        name = item.case_id.split(".")[0]
        return name[3:] if name.startswith("ct_deeplesion_") else name

    def read_as(item: EvalItem, turn: int) -> EvalItem:
        """The item with the affine of ``turn`` given, so no network guesses (0: taken as radiological)."""
        def load() -> Sample:
            sample = item.load()
            return dataclasses.replace(sample, affine=PictureView(turn, 1.0).affine(sample.target.shape, (1.0, 1.0)))
        return dataclasses.replace(item, load=load)

    predictor = load_predictor("medsee-grounding-v1")
    table = {}
    for way in ("as stored", "held out", "shipped", "true turn"):
        rows = []
        groups = sorted({group_of[patient(item)] for item in dataset.items}) if way == "held out" else [""]
        for group in groups:
            items = [item for item in dataset.items if not group or group_of[patient(item)] == group]
            if way in ("true turn", "as stored"):
                items = [read_as(item, turn_of[item.case_id] if way == "true turn" else 0) for item in items]
            predictor.view_net = load_view_net(folds / group) if way == "held out" else None
            result = evaluate(Dataset("mlmr-sd-d8", tuple(items)), PredictorSource(predictor), options)
            rows += result.rows
        summary = summarise(rows)
        right = [r for r in rows if r.get("picture_turn", "") != ""]
        turns_right = (np.mean([int(r["picture_turn"]) == turn_of[r["case_id"]] for r in right]) if right else float("nan"))
        table[way] = {**{k: summary[k] for k in ("n", "giou", "ciou", "dice", "box_acc50")}, "turn_right": turns_right,
                      "by_patient": {p: float(np.mean([r["iou"] for r in rows if r["case_id"].startswith(p)]))
                                     for p in sorted({r["case_id"].split(".")[0] for r in rows})}}
        print(f"| {way} | {summary['n']} | {summary['giou']:.3f} | {summary['ciou']:.3f} | {summary['dice']:.3f} | "
              f"{summary['box_acc50']:.3f} | {turns_right:.2f} |", flush=True)
    (args.out / "summary.json").write_text(json.dumps(table, indent=2, sort_keys=True, default=float) + "\n")


if __name__ == "__main__":
    main()
