"""Does the confidence printed with a finding mean anything? A reliability table on real scans (issue 12).

`medsee segment` runs every target the grounding model outlines on real, labelled scans; each
target's finding (present with its printed confidence, or absent) is scored against the labels:
a reported finding is *right* when its 3D Dice with the truth is at least 0.5, and a *false
finding* when the target is not in the scan at all. Reported findings are binned by their
printed confidence; a calibrated confidence would be right as often as it says. The map is fitted
on the findings the anatomy guard did not doubt; the doubted ones are counted apart
(`ConfidenceMap.doubted_share`).

Scans (all the real labelled ones here; one CT patient only, so read the table as that):
- patient_a slices 86-95, the block held out of training (a 10-slice volume);
- patient_a cut to 300, 250 and 180 mm fields (zoomed reconstructions, `bench/field_of_view.py`) and
  resampled to 512 x 512 x 300 (`bench/ask_fullsize.py`): the training patient in pictures the model
  never saw;
- brain2 (MR, held out): its tumour, and every other target absent;
- patient_a as stored (the training patient; reported apart).
Truth: TotalSegmentator's label map (kidney_lesion = its kidney cysts); patient_a has no liver or
pancreatic lesion, so those targets are absent; bile_duct is not in the label map and is skipped.

    .venv/bin/python bench/reliability.py [--model NAME|PATH] [--rerun]

Each run's findings are kept under bench/results/reliability (not committed) and reused unless --rerun.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ask_fullsize import resampled  # noqa: E402
from field_of_view import zoomed  # noqa: E402
from thin_slices import MEMBERS, labelled_data, truth_of  # noqa: E402

OUT = ROOT / "bench" / "results" / "reliability"
CT_TARGETS = ("liver", "spleen", "kidneys", "kidney_left", "kidney_right", "gallbladder", "stomach", "pancreas",
              "aorta", "inferior_vena_cava", "vertebrae", "lungs", "urinary_bladder", "colon", "small_bowel",
              "duodenum", "hip", "liver_lesion", "kidney_lesion", "pancreatic_lesion", "brain_tumor",
              "breast_lesion")
BINS = (0.0, 0.3, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99, 1.0001)
RIGHT_DICE = 0.5


@dataclass(frozen=True)
class Scan:
    name: str
    image: Path
    truth: dict  # target -> boolean voxels (absent targets: all False)
    held_out: bool


@dataclass(frozen=True)
class Outcome:
    scan: str
    target: str
    reported: bool
    score: float
    doubtful: bool
    in_scan: bool
    dice: float  # 0 when reported and not in the scan, nan when neither

    @property
    def right(self) -> bool:
        return self.reported and self.dice >= RIGHT_DICE


def block(data: Path) -> tuple[Path, Path]:
    """patient_a's held-out slices 86-95 as a volume of their own (geometry kept), made once."""
    import SimpleITK as sitk

    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / "patient_a_86-95.nii.gz", OUT / "patient_a_86-95_labels.nii.gz"
    if not all(p.is_file() for p in out):
        for name, path in zip(("ct.nii.gz", "labels_total.nii.gz"), out):
            sitk.WriteImage(sitk.ReadImage(str(data / "ct" / "patient_a" / name))[:, :, 86:96], str(path),
                            useCompression=True)
    return out


def ct_truth(label_file: Path, ids: dict[str, int]) -> dict:
    from medsee_cli.io import load_volume

    labels = np.asarray(load_volume(label_file).array())
    return {t: truth_of(labels, t, ids) if t in ids or t in MEMBERS else np.zeros(labels.shape, dtype=bool)
            for t in CT_TARGETS}


def scans(data: Path, ids: dict[str, int]) -> list[Scan]:
    from medsee_cli.io import load_volume

    found = []
    image, labels = block(data)
    found.append(Scan("patient_a 86-95 (held out)", image, ct_truth(labels, ids), True))
    for field in (300.0, 250.0, 180.0):
        image, labels = zoomed(data, field)
        found.append(Scan(f"patient_a {field:g} mm field", image, ct_truth(labels, ids), True))
    image, labels = resampled(data)
    found.append(Scan("patient_a at 512 x 512 x 300", image, ct_truth(labels, ids), True))
    brain = data / "mr" / "pyradiomics" / "brain2_image.nrrd"
    tumour = np.asarray(load_volume(data / "mr" / "pyradiomics" / "brain2_label.nrrd").array()) > 0
    found.append(Scan("brain2 (MR, held out)", brain,
                      {t: tumour if t == "brain_tumor" else np.zeros_like(tumour) for t in CT_TARGETS}, True))
    found.append(Scan("patient_a as stored (trained on)", data / "ct" / "patient_a" / "ct.nii.gz",
                      ct_truth(data / "ct" / "patient_a" / "labels_total.nii.gz", ids), False))
    return found


def outcomes(scan: Scan, model: str, rerun: bool) -> list[Outcome]:
    """Every target's finding on ``scan`` (`medsee segment`'s own code, in this process), scored on its
    own outline (a label map would lose the overlaps: kidneys and kidney_left); kept as JSON and reused."""
    record = OUT / ("run_" + "".join(c if c.isalnum() else "_" for c in scan.name) + "_" + weights_of(model) + ".json")
    if rerun or not record.is_file():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(run(scan, model)))
    found = json.loads(record.read_text())
    rows = []
    for t in CT_TARGETS:
        truth, entry = scan.truth[t], found[t]
        reported = entry["voxels"] > 0
        overlap = 2 * entry["overlap"] / (entry["voxels"] + int(truth.sum())) if (reported or truth.any()) else float("nan")
        rows.append(Outcome(scan.name, t, reported, entry["score"] if reported else 0.0,
                            bool(entry["concerns"]) and reported, bool(truth.any()), overlap))
    return rows


def weights_of(model: str) -> str:
    """The first 12 hex digits of the weights' SHA-256 of ``model`` (a registry name or a folder)."""
    from medsee_cli.model.grounding.config import GroundingConfig
    from medsee_cli.model.grounding.model import checkpoint_folder

    return GroundingConfig.load(checkpoint_folder(model)[0]).weights_sha256[:12]


def segmented(image: Path, targets: tuple[str, ...], model: str) -> Any:
    """`medsee segment`'s case for ``targets`` on ``image``, in this process (no files kept); exits on failure."""
    import tempfile

    from medsee_cli.services.segment import SegmentOptions, segment

    with tempfile.TemporaryDirectory() as out:
        (case,) = segment([image], SegmentOptions(out=Path(out), targets=targets, model=model, formats=("json",)))
    if not case.ok:
        raise SystemExit(f"{image}: {case.error}")
    return case


def mask_of(finding: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A finding's region as a boolean volume of ``shape`` (all False when not found)."""
    mask = np.zeros(shape, dtype=np.uint8)
    if finding.region is not None:
        finding.region.paint(mask, 1)
    return mask.astype(bool)


def run(scan: Scan, model: str) -> dict:
    """Per target: the finding's voxels, its overlap with the truth, its printed score and concerns."""
    found = {}
    for finding in segmented(scan.image, CT_TARGETS, model).findings:
        hit = mask_of(finding, scan.truth[finding.target].shape)
        found[finding.target] = {"voxels": int(hit.sum()), "overlap": int((hit & scan.truth[finding.target]).sum()),
                                 "score": float(finding.score), "concerns": list(finding.concerns)}
    return found


def table(pairs: list[tuple[float, Outcome]]) -> list[str]:
    """Reported findings binned by the number they were given (``pairs``: (number, outcome)): how
    many, the mean number, the share right, the share of targets not in the scan, mean Dice; and the
    expected calibration error (the bins' |mean number - share right|, weighted by size)."""
    lines = [f"{'given':>11s} {'findings':>8s} {'mean':>6s} {'right':>6s} {'false':>6s} {'mean Dice':>9s}"]
    bins = [[(v, r) for v, r in pairs if lo <= v < hi] for lo, hi in zip(BINS[:-1], BINS[1:])]
    for (lo, hi), inside in zip(zip(BINS[:-1], BINS[1:]), bins):
        if inside:
            lines.append(f"{lo:.2f}-{min(hi, 1.0):.2f} {len(inside):8d} {np.mean([v for v, _ in inside]):6.3f} "
                         f"{np.mean([r.right for _, r in inside]):6.2f} {np.mean([not r.in_scan for _, r in inside]):6.2f} "
                         f"{np.mean([r.dice for _, r in inside]):9.3f}")
    gap = sum(abs(np.mean([v for v, _ in b]) - np.mean([r.right for _, r in b])) * len(b) for b in bins if b)
    lines.append(f"expected calibration error (right = Dice >= {RIGHT_DICE}): {gap / max(len(pairs), 1):.3f}")
    return lines


def separation(rows: list[Outcome]) -> float:
    """The chance that a right finding scored above a wrong one (ROC AUC of the score; ties count half)."""
    right = [r.score for r in rows if r.right]
    wrong = [r.score for r in rows if not r.right]
    if not right or not wrong:
        return float("nan")
    return float(np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a in right for b in wrong]))


def counts(rows: list[Outcome]) -> str:
    absent = [r for r in rows if not r.in_scan]
    present = [r for r in rows if r.in_scan]
    return (f"targets not in the scan: {len(absent)}, reported anyway: {sum(r.reported for r in absent)}; "
            f"in the scan: {len(present)}, missed: {sum(not r.reported for r in present)}")


def main() -> None:
    from medsee_cli.model.grounding.confidence import fit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="medsee-grounding-v1")
    parser.add_argument("--rerun", action="store_true")
    parser.add_argument("--data", default=None)
    parser.add_argument("--write", default=None, metavar="FOLDER",
                        help="store the map fitted on every held-out finding in this model folder's config.json")
    args = parser.parse_args()
    data, ids = labelled_data(args.data)
    every = []
    for scan in scans(data, ids):
        rows = outcomes(scan, args.model, args.rerun)
        every.append((scan, rows))
        for r in rows:
            if r.reported or r.in_scan:
                print(json.dumps({"scan": r.scan, "target": r.target, "reported": r.reported, "score": round(r.score, 3),
                                  "doubtful": r.doubtful, "in_scan": r.in_scan, "dice": round(r.dice, 3)}), flush=True)
    held = [(scan, [r for r in rows if r.reported]) for scan, rows in every if scan.held_out]
    trained = [r for scan, rows in every if not scan.held_out for r in rows if r.reported]
    pooled = [r for _, rows in held for r in rows]
    print(f"\nheld out ({len(held)} scans or pictures not trained on), by the model score:")
    print("\n".join(table([(r.score, r) for r in pooled])))
    print(counts([r for scan, rows in every if scan.held_out for r in rows]))
    print(f"score separates right from wrong findings (ROC AUC): {separation(pooled):.2f}")
    # each held-out scan given the map fitted on the others: what a new scan would see
    crossed = []
    for k, (scan, rows) in enumerate(held):
        others = [r for j, (_, found) in enumerate(held) if j != k for r in found]
        mapping = fit([r.score for r in others], [r.right for r in others], "", doubted=[r.doubtful for r in others])
        crossed += [(given, r) for r in rows if (given := mapping.of(r.score, r.doubtful)) is not None]
    print("\nheld out, by the confidence a map fitted on the other scans gives (leave one scan out):")
    print("\n".join(table(crossed)))
    measured_on = (f"{len(pooled)} findings of medsee segment with every target on {len(held)} real scans and "
                   f"pictures it was not trained on ({'; '.join(scan.name for scan, _ in held)}); right = 3D Dice >= "
                   f"{RIGHT_DICE}; the {sum(r.doubtful for r in pooled)} the anatomy guard doubted counted apart "
                   f"(bench/reliability.py)")
    mapping = fit([r.score for r in pooled], [r.right for r in pooled], measured_on, doubted=[r.doubtful for r in pooled])
    print(f"\nmap on every held-out finding the anatomy guard did not doubt ({mapping.findings}): slope "
          f"{mapping.slope:.3f}, intercept {mapping.intercept:.3f}; "
          + ", ".join(f"score {s} -> {mapping(s):.2f}" for s in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)))
    print(f"doubted by the anatomy guard: {mapping.doubted} findings, {mapping.doubted_right} right; their "
          f"confidence {mapping.doubted_share() or float('nan'):.2f}")
    if trained:
        print(f"\ntrained on ({sum(not scan.held_out for scan, _ in every)} scan), by the model score:")
        print("\n".join(table([(r.score, r) for r in trained])))
        print("by that map's confidence:")
        print("\n".join(table([(given, r) for r in trained if (given := mapping.of(r.score, r.doubtful)) is not None])))
    if args.write:
        from dataclasses import replace

        from medsee_cli.model.grounding.config import GroundingConfig

        config = GroundingConfig.load(Path(args.write))
        replace(config, confidence_map=mapping.to_dict()).save(Path(args.write))
        print(f"wrote the map into {Path(args.write) / 'config.json'}")


if __name__ == "__main__":
    main()
