"""`medsee ask` on a full-size CT: patient_a resampled to 512 x 512 x 300 (0.72 x 0.60 x 1.12 mm,
the size issue 13 measured), a question naming one structure; wall time, peak memory, slices run
and 3D Dice against the labels resampled the same way (nearest neighbour).

    .venv/bin/python bench/ask_fullsize.py [--repeats 3] [--question "where is the liver?"] [--runtime auto|torch|onnx]
                                           [--bridge 7] [--bridge 0,7]

With several ``--bridge`` values (mm; 0 = no bridging, `EngineOptions.bridge_mm`), each round runs
every value in turn, so the values are timed side by side on a shared machine; medians per value
and their ratio are printed.

The resampled files are made once under bench/results/fullsize (not committed). Each run is a
fresh `medsee ask --json` process; peak RSS is that process's (getrusage of the children).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "fullsize"
SHAPE = (512, 512, 300)


def resampled(data: Path) -> tuple[Path, Path]:
    import SimpleITK as sitk

    OUT.mkdir(parents=True, exist_ok=True)
    image_out, labels_out = OUT / "ct_512x512x300.nii.gz", OUT / "labels_512x512x300.nii.gz"
    if image_out.is_file() and labels_out.is_file():
        return image_out, labels_out
    image = sitk.ReadImage(str(data / "ct" / "patient_a" / "ct.nii.gz"))
    labels = sitk.ReadImage(str(data / "ct" / "patient_a" / "labels_total.nii.gz"))
    size, spacing = image.GetSize(), image.GetSpacing()
    new_spacing = [spacing[a] * size[a] / SHAPE[a] for a in range(3)]
    for source, target, interpolator, fill in ((image, image_out, sitk.sitkLinear, -1024),
                                               (labels, labels_out, sitk.sitkNearestNeighbor, 0)):
        out = sitk.Resample(source, list(SHAPE), sitk.Transform(), interpolator, source.GetOrigin(), new_spacing,
                            source.GetDirection(), fill, source.GetPixelID())
        sitk.WriteImage(out, str(target), useCompression=True)
    return image_out, labels_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--question", default="where is the liver?")
    parser.add_argument("--target", default="liver", help="label name scored against the answer's first finding")
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--data", default=None)
    parser.add_argument("--bridge", default="7", help="comma-separated --bridge values (mm), run in turn each round")
    args = parser.parse_args()
    bridges = [float(b) for b in args.bridge.split(",")]
    from medsee_cli.io import load_volume
    from thin_slices import labelled_data, truth_of  # the one reader of the label map (bench/thin_slices.py)

    root, ids = labelled_data(args.data)
    image, labels = resampled(root)
    truth = truth_of(np.asarray(load_volume(labels).array()), args.target, ids)
    walls: dict[float, list[float]] = {b: [] for b in bridges}
    rows = []
    for n, bridge in [(n, b) for n in range(args.repeats) for b in bridges]:
        out = OUT / f"ask_{n}_bridge{bridge:g}"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "medsee_cli", "ask", str(image), args.question, "--out", str(out),
                               "--overwrite", "--json", "--image-runtime", args.runtime, "--bridge", str(bridge)],
                              capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stderr.strip())
        document = json.loads(done.stdout)
        mask = np.asarray(load_volume(out / "mask.nii.gz").array()) == 1
        dice = 2 * (mask & truth).sum() / max(mask.sum() + truth.sum(), 1)
        walls[bridge].append(wall)
        found = document["findings"][0] if document["findings"] else {}
        rows.append({"bridge_mm": bridge, "wall_s": round(wall, 1), "engine": document["engine"], "target": found.get("target"),
                     "pieces": found.get("measurements", {}).get("pieces"), "dice": round(float(dice), 3)})
        print(json.dumps(rows[-1]), flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for bridge, values in walls.items():
        print(f"{args.question!r} on {SHAPE}, --bridge {bridge:g}: wall median {statistics.median(values):.1f} s "
              f"(min {min(values):.1f}, max {max(values):.1f}) over {len(values)} runs")
    if len(bridges) > 1:
        base = statistics.median(walls[bridges[0]])
        print("ratios of medians to --bridge %g: " % bridges[0]
              + ", ".join(f"{b:g}: {statistics.median(walls[b]) / base:.2f}" for b in bridges[1:]))
        first = {b: np.asarray(load_volume(OUT / f"ask_0_bridge{b:g}" / "mask.nii.gz").array()) == 1 for b in bridges}
        print("Dice of the first round's masks to --bridge %g's: " % bridges[0] + ", ".join(
            f"{b:g}: {2 * (first[b] & first[bridges[0]]).sum() / max(first[b].sum() + first[bridges[0]].sum(), 1):.4f}"
            for b in bridges[1:]))
    print(f"peak RSS of any run {peak:.0f} MB")


if __name__ == "__main__":
    main()
