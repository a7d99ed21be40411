"""Zoomed reconstructions: the same patient seen in a smaller field of view (issue 12).

A scanner reconstructs the same raw data in whatever field the operator picks: 350-450 mm for
an abdomen, 180-250 mm for the mediastinum, the heart or a target organ. The grounding model
resizes each slice's longest side to its 256-pixel input, so a 180 mm field shows every organ
twice as large as the whole-body fields it was trained on, unless the model's ``min_field_mm``
pads small fields back to a whole-body scale.

patient_a (3 mm, labelled) is cropped in-plane to a square field around the middle of the body
(the bounding box of tissue above -500 HU) and resampled to 0.75 mm pixels, like a zoomed
reconstruction; the labels are cut the same way (nearest neighbour). Each model given runs
`medsee segment` on each field; per target, 3D Dice against the cut labels (the part of the
organ inside the field).

    .venv/bin/python bench/field_of_view.py [--fields 0,250,180] [--models medsee-grounding-v1,build/...]

Field 0 is the scan as stored. Outputs go to bench/results/field_of_view (not committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from thin_slices import TARGETS, dice, labelled_data, segment, truth_of  # noqa: E402

OUT = ROOT / "bench" / "results" / "field_of_view"
PIXEL_MM = 0.75


def zoomed(data: Path, field_mm: float) -> tuple[Path, Path]:
    """patient_a cut to a ``field_mm`` square around the body's middle at 0.75 mm pixels, made once."""
    import SimpleITK as sitk

    OUT.mkdir(parents=True, exist_ok=True)
    image_out, labels_out = OUT / f"patient_a_{field_mm:g}mm.nii.gz", OUT / f"patient_a_{field_mm:g}mm_labels.nii.gz"
    if image_out.is_file() and labels_out.is_file():
        return image_out, labels_out
    image = sitk.ReadImage(str(data / "ct" / "patient_a" / "ct.nii.gz"))
    labels = sitk.ReadImage(str(data / "ct" / "patient_a" / "labels_total.nii.gz"))
    body = sitk.GetArrayFromImage(image) > -500  # (z, y, x)
    ys, xs = np.flatnonzero(body.any(axis=(0, 2))), np.flatnonzero(body.any(axis=(0, 1)))
    centre_index = [(xs[0] + xs[-1]) / 2.0, (ys[0] + ys[-1]) / 2.0, 0.0]
    centre = np.array(image.TransformContinuousIndexToPhysicalPoint(centre_index))
    direction = np.array(image.GetDirection()).reshape(3, 3)
    spacing = image.GetSpacing()
    matrix = int(round(field_mm / PIXEL_MM))
    size = [matrix, matrix, image.GetSize()[2]]
    new_spacing = [PIXEL_MM, PIXEL_MM, spacing[2]]
    half = direction @ np.array([(matrix - 1) / 2.0 * PIXEL_MM, (matrix - 1) / 2.0 * PIXEL_MM, 0.0])
    origin = centre - half
    origin[2] = image.GetOrigin()[2]
    for source, target, interpolator, fill in ((image, image_out, sitk.sitkLinear, -1024),
                                               (labels, labels_out, sitk.sitkNearestNeighbor, 0)):
        out = sitk.Resample(source, size, sitk.Transform(), interpolator, origin.tolist(), new_spacing,
                            image.GetDirection(), fill, source.GetPixelID())
        sitk.WriteImage(out, str(target), useCompression=True)
    return image_out, labels_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", default="0,250,180", help="fields of view in mm; 0 = as stored")
    parser.add_argument("--models", default="medsee-grounding-v1")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from medsee_cli.io import load_volume

    root, ids = labelled_data(args.data)
    targets = tuple(args.targets.split(","))
    models = args.models.split(",")
    table: dict[tuple[str, str], dict[str, float]] = {}
    for field in (float(f) for f in args.fields.split(",")):
        name = "as stored" if field == 0 else f"{field:g} mm"
        if field == 0:
            image, label_file = root / "ct" / "patient_a" / "ct.nii.gz", root / "ct" / "patient_a" / "labels_total.nii.gz"
        else:
            image, label_file = zoomed(root, field)
        labels = np.asarray(load_volume(label_file).array())
        for m, model in enumerate(models):
            wall, _, masks = segment(image, targets, 3.5, OUT / f"run_{name.replace(' ', '_')}_{m}", model)
            row = {}
            for t in targets:
                row[t] = dice(masks.get(t, np.zeros(labels.shape, dtype=bool)), truth_of(labels, t, ids))
            table[(name, model)] = row
            print(json.dumps({"field": name, "model": model, "wall_s": round(wall, 1),
                              "dice": {t: round(v, 3) for t, v in row.items()}}), flush=True)
    print(f"{'field':10s} {'model':28s} " + " ".join(f"{t[:9]:>9s}" for t in targets))
    for (name, model), row in table.items():
        print(f"{name:10s} {Path(model).name[:28]:28s} " + " ".join(f"{row[t]:9.3f}" for t in targets))


if __name__ == "__main__":
    main()
