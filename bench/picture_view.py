"""Held-out accuracy of the picture-view network: one recipe group left out per fold.

    .venv/bin/python bench/picture_view.py [--data ../shared/data] [--groups a,b] [--steps N] [--out FILE]

For each group of `medsee_cli/training/recipes/picture-view.yaml` (one patient, or two DeepLesion
slabs), a network is trained on the other groups with the recipe's settings and asked about every
slice of the held-out group turned all 8 ways. Prints one row per held-out source: the share of
pictures whose turn it names, and whose posterior direction (which edge the back is at) it names.
About 4-8 minutes per fold on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--groups", default="")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "picture_view.json")
    args = parser.parse_args()
    from medsee_cli.training.picture_view import recipe

    groups = args.groups.split(",") if args.groups else sorted({s["group"] for s in recipe(args.data.resolve())["sources"]})
    results = {}
    for group in groups:
        command = [sys.executable, "-m", "medsee_cli.training.picture_view", "--data", str(args.data), "--hold-out", group,
                   "--out", str(args.out.parent / "picture_view" / group)]  # the fold's network, for bench/picture_view_eval.py
        if args.steps:
            command += ["--steps", str(args.steps)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        record = json.loads(done.stdout.strip().splitlines()[-1])
        results[group] = record
        for source, figures in record["held_out"].items():
            print(f"| {source} | {figures['pictures'] // 8} | {figures['turn']:.2f} | {figures['posterior']:.2f} | "
                  f"{record['minutes']:.1f} min |", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
