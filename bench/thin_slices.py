"""Thin slices read every n-th (`EngineOptions.read_spacing_mm`) against every slice read.

patient_a (3 mm, the grounding model's own patient) resampled along its slice axis to 1 mm
slices, in-plane unchanged, so the model sees pictures like its training slices and what differs
is only how many slices are read: `medsee segment` with `--read-spacing 0` (every slice), with
`--bridge 0` (3.5 mm: every third 1 mm slice, the slices between drawn by shape interpolation) and
the default (every third slice, and where the outlines of two read slices 6.7 mm apart agree the
one between them is drawn too: bridged). Per target: each run's Dice against the labels resampled
the same way, and between the runs; wall time and slices run. ``--no-every`` leaves out the
every-slice run (the slowest). With ``--fullsize`` the 512 x 512 x 300 CT of `bench/ask_fullsize.py`
is run instead (liver only: the target the issue measured).

    .venv/bin/python bench/thin_slices.py [--fullsize] [--targets liver,spleen,...]

Resampled files and outputs go to bench/results/thin_slices (not committed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "thin_slices"
TARGETS = ("liver", "spleen", "aorta", "kidneys", "stomach", "vertebrae")
# targets whose "total" labels go by other names (kidney_lesion: the only kidney lesions it labels are cysts)
MEMBERS = {"kidneys": ("kidney_left", "kidney_right"),
           "vertebrae": tuple(f"vertebrae_{p}{n}" for p, top in (("C", 7), ("T", 12), ("L", 5)) for n in range(1, top + 1))
           + ("vertebrae_S1",),
           "lungs": ("lung_upper_lobe_left", "lung_lower_lobe_left", "lung_upper_lobe_right", "lung_middle_lobe_right",
                     "lung_lower_lobe_right"),
           "hip": ("hip_left", "hip_right"), "kidney_lesion": ("kidney_cyst_left", "kidney_cyst_right")}


def thin(data: Path) -> tuple[Path, Path]:
    """patient_a at 1 mm slices (linear for the CT, nearest for the labels), made once."""
    import SimpleITK as sitk

    OUT.mkdir(parents=True, exist_ok=True)
    image_out, labels_out = OUT / "patient_a_1mm.nii.gz", OUT / "patient_a_1mm_labels.nii.gz"
    if image_out.is_file() and labels_out.is_file():
        return image_out, labels_out
    for name, target, interpolator, fill in (("ct.nii.gz", image_out, sitk.sitkLinear, -1024),
                                             ("labels_total.nii.gz", labels_out, sitk.sitkNearestNeighbor, 0)):
        source = sitk.ReadImage(str(data / "ct" / "patient_a" / name))
        spacing, size = source.GetSpacing(), source.GetSize()
        new_size = [size[0], size[1], int(round(size[2] * spacing[2] / 1.0))]
        out = sitk.Resample(source, new_size, sitk.Transform(), interpolator, source.GetOrigin(),
                            [spacing[0], spacing[1], 1.0], source.GetDirection(), fill, source.GetPixelID())
        sitk.WriteImage(out, str(target), useCompression=True)
    return image_out, labels_out


def segment(image: Path, targets: tuple[str, ...], read_spacing: float, out: Path,
            model: str = "", bridge: float = 7.0) -> tuple[float, dict, dict[str, np.ndarray]]:
    from medsee_cli.io import load_volume

    shutil.rmtree(out, ignore_errors=True)  # a batch re-run would skip the finished case
    command = [sys.executable, "-m", "medsee_cli", "segment", str(image), "--out", str(out), "--json",
               "--read-spacing", str(read_spacing), "--bridge", str(bridge), "--format", "nifti,json"]
    for target in targets:
        command += ["--target", target]
    if model:
        command += ["--model", model]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip()[-2000:])
    (case,) = [p.parent for p in out.glob("*/mask.nii.gz")]
    labels = json.loads((case / "labels.json").read_text())["labels"]
    mask = np.asarray(load_volume(case / "mask.nii.gz").array())
    engine = json.loads(done.stdout)["cases"][0].get("engine", {})
    return wall, engine, {entry["name"]: mask == entry["value"] for entry in labels}


def labelled_data(given: str | None) -> tuple[Path, dict[str, int]]:
    """The shared data folder (``--data`` or the default) and its "total" label ids by name."""
    from medsee_cli.io.data_root import data_root

    root = data_root(given)
    if root is None:
        raise SystemExit("the shared data folder was not found (give --data or set MEDSEE_DATA)")
    return root, {name: int(k) for k, name in json.loads((root / "labelmap_total.json").read_text())["total"].items()}


def truth_of(labels: np.ndarray, target: str, ids: dict[str, int]) -> np.ndarray:
    """A target's voxels in a "total" label map (unions through their members)."""
    return np.isin(labels, [ids[m] for m in MEMBERS.get(target, (target,))])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return float("nan") if total == 0 else 2 * int((a & b).sum()) / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fullsize", action="store_true", help="the 512 x 512 x 300 CT of bench/ask_fullsize.py")
    parser.add_argument("--targets", default=None)
    parser.add_argument("--no-every", action="store_true", help="leave out the every-slice run")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from medsee_cli.io import load_volume

    root, ids = labelled_data(args.data)
    if args.fullsize:
        sys.path.insert(0, str(ROOT / "bench"))
        from ask_fullsize import resampled

        image, label_file = resampled(root)
        targets: tuple[str, ...] = ("liver",)
    else:
        image, label_file = thin(root)
        targets = TARGETS
    if args.targets:
        targets = tuple(args.targets.split(","))
    labels = np.asarray(load_volume(label_file).array())
    truth = {t: truth_of(labels, t, ids) for t in targets}
    configs = {"every": (0.0, 0.0), "thin": (3.5, 0.0), "bridged": (3.5, 7.0)}
    if args.no_every:
        del configs["every"]
    runs = {}
    for name, (read_spacing, bridge) in configs.items():
        wall, engine, masks = segment(image, targets, read_spacing, OUT / f"{image.name.split('.')[0]}_{name}",
                                      bridge=bridge)
        runs[name] = masks
        print(json.dumps({"run": name, "read_spacing_mm": read_spacing, "bridge_mm": bridge, "wall_s": round(wall, 1),
                          "engine": engine}), flush=True)
    pairs = [(a, b) for a, b in (("thin", "every"), ("bridged", "every"), ("bridged", "thin")) if a in runs and b in runs]
    print(f"{'target':12s} " + " ".join(f"{n + '/labels':>14s}" for n in runs) + " "
          + " ".join(f"{a + '/' + b:>14s}" for a, b in pairs))
    empty = np.zeros(labels.shape, dtype=bool)
    for t in targets:
        got = {n: empty if runs[n].get(t) is None else runs[n][t] for n in runs}
        print(f"{t:12s} " + " ".join(f"{dice(got[n], truth[t]):14.3f}" for n in runs) + " "
              + " ".join(f"{dice(got[a], got[b]):14.3f}" for a, b in pairs))


if __name__ == "__main__":
    main()
