"""False lesions and real ones: what `medsee segment` reports for the organ-specific lesion targets (issue 12).

Asks for liver_lesion, kidney_lesion and pancreatic_lesion alone (as `ask "is there a lesion in ..."`
does) on scans where the truth is known, and counts per scan:
- false findings: a lesion target reported where the scan has none of it, or away from the scan's
  lesions of that kind (3D Dice under 0.1);
- lesions hit: a lesion target reported on the scan's lesions of that kind (Dice >= 0.1), and its 3D Dice;
- seconds the engine took (the organ and neighbours each lesion is checked against ride along).

Scans:
- patient_a slices 86-95 (held out of training; no lesion of any kind: TotalSegmentator finds none);
- the same slices with synthetic lesions inserted (`training.lesions`: two in the liver, one in the
  kidneys, one in the pancreas; seeds 0-7, fixed);
- patient_a resampled to 512 x 512 x 300 (`bench/ask_fullsize.py`; no lesion);
- the jaundice phantom (`sample_data`; a pancreatic head mass, label 5).
The synthetic lesions are like those the model was trained with (on other slices of this patient),
so "hit" here is optimistic; the false findings are what the rule is about.

    .venv/bin/python bench/lesion_check.py [--seeds 8] [--no-fullsize] [--model NAME|PATH]

Results are printed; the synthetic scans are kept under bench/results/lesion_check (not committed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ask_fullsize import resampled  # noqa: E402
from reliability import block, mask_of, segmented  # noqa: E402
from thin_slices import dice, labelled_data  # noqa: E402

OUT = ROOT / "bench" / "results" / "lesion_check"
LESIONS = ("liver_lesion", "kidney_lesion", "pancreatic_lesion")
ORGANS = {"liver_lesion": ("liver",), "kidney_lesion": ("kidney_left", "kidney_right"), "pancreatic_lesion": ("pancreas",)}
HIT_DICE = 0.1
COUNTS = {"liver_lesion": 2, "kidney_lesion": 1, "pancreatic_lesion": 1}


def with_lesions(data: Path, ids: dict[str, int], seed: int) -> tuple[Path, dict[str, np.ndarray]]:
    """patient_a slices 86-95 with synthetic lesions (seed ``seed``) and their masks, made once."""
    import SimpleITK as sitk

    from medsee_cli.training.lesions import LesionSpec, insert_lesions

    OUT.mkdir(parents=True, exist_ok=True)
    image_out, truth_out = OUT / f"patient_a_86-95_lesions_{seed}.nii.gz", OUT / f"patient_a_86-95_lesions_{seed}.npz"
    if not (image_out.is_file() and truth_out.is_file()):
        image = sitk.ReadImage(str(data / "ct" / "patient_a" / "ct.nii.gz"))
        labels = np.transpose(sitk.GetArrayFromImage(sitk.ReadImage(str(data / "ct" / "patient_a" / "labels_total.nii.gz"))))
        hu = np.transpose(sitk.GetArrayFromImage(image)).astype(np.float32)
        rng = np.random.default_rng(100 + seed)
        truth = {}
        for target in LESIONS:
            organ = tuple(ids[o] for o in ORGANS[target])
            hu, lesion = insert_lesions(hu, labels, image.GetSpacing(), LesionSpec(target, organ, count=COUNTS[target]),
                                        rng, slices=np.arange(86, 96))
            truth[target] = lesion[:, :, 86:96]
        out = sitk.GetImageFromArray(np.transpose(np.rint(hu)).astype(np.int16))
        out.CopyInformation(image)
        sitk.WriteImage(out[:, :, 86:96], str(image_out), useCompression=True)
        np.savez_compressed(truth_out, **truth)
    found = np.load(truth_out)
    return image_out, {t: found[t] for t in LESIONS}


def scans(data: Path, ids: dict[str, int], seeds: int, fullsize: bool) -> list[tuple[str, Path, dict[str, np.ndarray]]]:
    from medsee_cli.io import load_volume

    image, _ = block(data)
    shape = load_volume(image).spatial_shape
    found = [("patient_a 86-95", image, {t: np.zeros(shape, dtype=bool) for t in LESIONS})]
    found += [(f"patient_a 86-95 + lesions, seed {s}", *with_lesions(data, ids, s)) for s in range(seeds)]
    if fullsize:
        image, _ = resampled(data)
        shape = load_volume(image).spatial_shape
        found.append(("patient_a 512 x 512 x 300", image, {t: np.zeros(shape, dtype=bool) for t in LESIONS}))
    phantom = ROOT / "sample_data"
    labels = np.asarray(load_volume(phantom / "abdomen_jaundice_labels.nii.gz").array())
    names = {name: int(k) for k, name in json.loads((phantom / "labels.json").read_text()).items()}
    found.append(("jaundice phantom", phantom / "abdomen_jaundice.nii.gz",
                  {t: labels == names[t] if t in names else np.zeros(labels.shape, dtype=bool) for t in LESIONS}))
    return found


def run(image: Path, shape: tuple[int, ...], model: str) -> tuple[dict[str, np.ndarray], float]:
    """Each lesion target's finding on ``image`` as a boolean volume of ``shape``, and the engine's seconds."""
    case = segmented(image, LESIONS, model)
    return {f.target: mask_of(f, shape) for f in case.findings}, float(case.stats.get("seconds", float("nan")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--no-fullsize", action="store_true")
    parser.add_argument("--data", default=None)
    parser.add_argument("--model", default="medsee-grounding-v1")
    args = parser.parse_args()
    data, ids = labelled_data(args.data)
    false, hits, missed, seconds = 0, [], 0, []
    for name, image, truth in scans(data, ids, args.seeds, not args.no_fullsize):
        masks, took = run(image, truth[LESIONS[0]].shape, args.model)
        seconds.append(took)
        cells = []
        for target in LESIONS:
            found, real = masks[target], truth[target]
            score = dice(found, real) if real.any() else 0.0
            if found.any() and score < HIT_DICE:
                false += 1
                cells.append(f"{target} FALSE {found.sum()} vox")
            elif found.any():
                hits.append(score)
                cells.append(f"{target} Dice {score:.2f}")
            if real.any() and score < HIT_DICE:
                missed += 1
                cells.append(f"{target} missed")
        print(f"{name:34s} {took:6.1f} s  " + "; ".join(cells), flush=True)
    print(f"false findings: {false}; lesions hit: {len(hits)} (mean Dice {np.mean(hits) if hits else float('nan'):.3f}), "
          f"missed: {missed}; engine seconds median {statistics.median(seconds):.1f}")


if __name__ == "__main__":
    main()
