"""LiteMedSAM latency on this machine: load, preprocessing, encoder and decoder per slice, fp32 vs bf16.

    .venv/bin/python bench/litemedsam_bench.py [--repeats 7] [--threads 2] [--size 512]

Prints a table of medians and writes bench/results/litemedsam_<host>.json. Other jobs on the
machine slow everything; compare ratios (bf16/fp32) rather than absolute figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from medsee_cli.io.atomic import write_text_atomic
from medsee_cli.model.pretrained import load_checkpoint
from medsee_cli.model.preprocess import image_tensor, to_uint8, window_for
from medsee_cli.model.segmenter import BoxPromptSegmenter, SegmenterOptions

RESULTS = Path(__file__).parent / "results"


def timed(run, repeats: int) -> dict[str, float]:
    """Median and minimum wall time after one warm-up; the minimum is the least disturbed run."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times)}


def synthetic_slice(size: int) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    image = np.full((size, size), -50.0)
    image[(rows - size * 0.4) ** 2 + (cols - size * 0.35) ** 2 < (size * 0.15) ** 2] = 150.0
    return image + np.random.default_rng(0).normal(0, 20, image.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=512, help="side of the synthetic input slice")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    loaded = load_checkpoint("litemedsam-base")
    load_s = time.perf_counter() - start
    image = synthetic_slice(args.size)
    boxes4 = np.array([[100, 100, 300, 300], [50, 250, 200, 450], [300, 50, 480, 200], [200, 200, 400, 400]], np.float32)
    boxes4 *= args.size / 512
    pre = timed(lambda: image_tensor(to_uint8(image, window_for("CT"))), args.repeats)

    rows = []
    for bf16 in (False, True):
        segmenter = BoxPromptSegmenter(SegmenterOptions(bf16=bf16), model=loaded.model)
        embedding = segmenter.embed(image)
        rows.append(
            {
                "precision": "bf16" if bf16 else "fp32",
                "encoder": timed(lambda: segmenter.embed(image), args.repeats),
                "decoder_1box": timed(lambda: segmenter.segment(embedding, boxes4[:1]), args.repeats),
                "decoder_4box": timed(lambda: segmenter.segment(embedding, boxes4), args.repeats),
            }
        )
    report = {
        "checkpoint": loaded.name,
        "source": loaded.kind,
        "load_s": load_s,
        "preprocess": pre,
        "threads": args.threads,
        "slice": [args.size, args.size],
        "repeats": args.repeats,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "rows": rows,
    }
    print(f"load {load_s:.2f} s ({loaded.kind}), preprocess {pre['median_s'] * 1000:.1f} ms, threads {args.threads}, slice {args.size}^2")
    print("median / min over", args.repeats, "runs")
    print(f"{'precision':<10}{'encoder':>18}{'decode 1 box':>20}{'decode 4 boxes':>20}")
    for row in rows:
        cells = [f"{row[k]['median_s'] * 1000:.0f} / {row[k]['min_s'] * 1000:.0f} ms" for k in ("encoder", "decoder_1box", "decoder_4box")]
        print(f"{row['precision']:<10}{cells[0]:>18}{cells[1]:>20}{cells[2]:>20}")
    target = RESULTS / f"litemedsam_{platform.node() or 'host'}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, json.dumps(report, indent=1) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
