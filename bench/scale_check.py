"""The same patient at two resolutions gives the same organs (issue 12's scale goal).

patient_a as stored (3 mm) and resampled to 512 x 512 x 300 (0.72 x 0.60 x 1.12 mm, the file of
`bench/ask_fullsize.py`): `medsee segment` with the same targets and default options on both;
per target, 3D Dice against the labels resampled the same way (nearest neighbour), the number
of pieces, and the wall time of each run.

    .venv/bin/python bench/scale_check.py [--targets liver,spleen,...]

Outputs go to bench/results/scale_check (not committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ask_fullsize import resampled  # noqa: E402
from thin_slices import TARGETS, dice, labelled_data, segment, truth_of  # noqa: E402

OUT = ROOT / "bench" / "results" / "scale_check"


def pieces(mask: np.ndarray) -> int:
    from scipy import ndimage

    return int(ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from medsee_cli.io import load_volume

    root, ids = labelled_data(args.data)
    targets = tuple(args.targets.split(","))
    fine_image, fine_labels = resampled(root)
    cases = {"3 mm": (root / "ct" / "patient_a" / "ct.nii.gz", root / "ct" / "patient_a" / "labels_total.nii.gz"),
             "0.7x0.6x1.1 mm": (fine_image, fine_labels)}
    rows: dict[str, dict[str, tuple[float, int]]] = {}
    for name, (image, label_file) in cases.items():
        labels = np.asarray(load_volume(label_file).array())
        wall, engine, masks = segment(image, targets, 3.5, OUT / name.replace(" ", "_"))
        print(json.dumps({"case": name, "wall_s": round(wall, 1), "engine": engine}), flush=True)
        rows[name] = {}
        for t in targets:
            truth = truth_of(labels, t, ids)
            found = masks.get(t, np.zeros(labels.shape, dtype=bool))
            rows[name][t] = (dice(found, truth), pieces(found))
    names = list(cases)
    print(f"{'target':12s} " + " ".join(f"{n + ' Dice':>20s} {'pieces':>6s}" for n in names))
    for t in targets:
        print(f"{t:12s} " + " ".join(f"{rows[n][t][0]:20.3f} {rows[n][t][1]:6d}" for n in names))


if __name__ == "__main__":
    main()
