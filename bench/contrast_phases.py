"""Organs across contrast phases, and the unseen patient's aorta: one grounding model against another.

For each model given (registry names or trained folders; default: the shipped one):
- patient_a (3 mm, unenhanced; the model's own training patient) as stored and as the arterial and
  portal-venous copies training makes of it (`training/contrast.enhance` over the whole volume):
  `medsee segment` per target, 3D Dice against the labels;
- patient_c (an unseen, contrast-enhanced chest-to-upper-abdomen CT, no labels): on how many of its
  slices the aorta is found (the aorta crosses every slice of this field of view), and on which
  slices kidneys are reported (no labels to score them against).

    .venv/bin/python bench/contrast_phases.py [--model NAME_OR_FOLDER ...] [--targets ...]

Outputs go to bench/results/contrast_phases (not committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from thin_slices import dice, labelled_data, segment, truth_of  # noqa: E402

OUT = ROOT / "bench" / "results" / "contrast_phases"
TARGETS = ("liver", "spleen", "kidneys", "aorta", "inferior_vena_cava", "stomach", "pancreas")
PHASES = ("as stored", "arterial", "portal_venous")


def phase_copy(image: Path, labels: np.ndarray, names: dict[int, str], phase: str) -> Path:
    """patient_a (``image`` and its ``labels``) in ``phase``, made once, on the image's grid."""
    import nibabel as nib

    from medsee_cli.io import load_volume
    from medsee_cli.training.contrast import enhance

    out = OUT / f"patient_a_{phase}.nii.gz"
    if out.is_file():
        return out
    OUT.mkdir(parents=True, exist_ok=True)
    volume = load_volume(image)
    hu = enhance(np.asarray(volume.array(), dtype=np.float32), labels, names, phase)
    nib.save(nib.Nifti1Image(np.rint(hu).astype(np.int16), volume.affine), str(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="a registry name or trained folder (repeat to compare)")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    targets = tuple(args.targets.split(","))
    _, ids = labelled_data(str(args.data))
    names = {i: n for n, i in ids.items()}
    from medsee_cli.io import load_volume

    labels = np.rint(np.asarray(load_volume(args.data / "ct" / "patient_a" / "labels_total.nii.gz").array())).astype(np.int32)
    truth = {t: truth_of(labels, t, ids) for t in targets}
    stored = args.data / "ct" / "patient_a" / "ct.nii.gz"
    images = {"as stored": stored} | {p: phase_copy(stored, labels, names, p) for p in PHASES[1:]}
    from medsee_cli.model.registry import DEFAULT_GROUNDING

    models = {Path(m).name: m for m in (args.model or [DEFAULT_GROUNDING])}
    rows = []
    for label, model in models.items():
        for phase, image in images.items():
            wall, _, masks = segment(image, targets, 3.5, OUT / f"{label}_{phase.replace(' ', '_')}", model)
            scores = {t: round(dice(masks.get(t, np.zeros_like(truth[t])), truth[t]), 3) for t in targets}
            rows.append({"model": label, "scan": f"patient_a {phase}", "dice": scores, "seconds": round(wall, 1)})
            print(f"{label:<22}{'patient_a ' + phase:<26}" + " ".join(f"{t} {v:.2f}" for t, v in scores.items()), flush=True)
        unseen = args.data / "ct" / "patient_c_unlabelled" / "ct.nii.gz"
        wall, _, masks = segment(unseen, ("aorta", "kidneys"), 3.5, OUT / f"{label}_patient_c", model)
        volume = load_volume(unseen)
        depth, voxel_ml = volume.shape[2], float(np.prod(volume.spacing)) / 1000
        aorta = masks.get("aorta", np.zeros((1, 1, depth), bool))
        kidneys = masks.get("kidneys", np.zeros((1, 1, depth), bool))
        on = np.flatnonzero(aorta.any((0, 1)))
        row = {"model": label, "scan": "patient_c", "aorta_slices": int(len(on)), "slices": int(depth),
               "aorta_ml": round(float(aorta.sum()) * voxel_ml, 1),
               "kidney_slices": [int(v) for v in np.flatnonzero(kidneys.any((0, 1)))[[0, -1]]] if kidneys.any() else [],
               "seconds": round(wall, 1)}
        rows.append(row)
        print(f"{label:<22}{'patient_c':<26}aorta on {row['aorta_slices']}/{depth} slices ({row['aorta_ml']} mL); "
              f"kidneys on slices {row['kidney_slices'] or 'none'}", flush=True)
    (OUT / f"results_{'_'.join(models)}.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
