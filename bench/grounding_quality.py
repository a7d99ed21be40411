"""Held-out quality of a grounding model: per-target presence, Dice and box IoU, plus the
jaundice phantom check. Run: .venv/bin/python bench/grounding_quality.py [--model NAME|PATH]

Held-out sources are the ``role: holdout`` entries of the shipped recipe (patient_a slices
86-95, the same slices with synthetic lesions, brain2, unseen phantom seeds); their encoder
features are cached under --cache like training's. Masks are scored on the 256x256 model
input grid; 3D figures are over the held-out block of each volume only.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def jaundice_check(model, sample: Path) -> list[dict]:  # type: ignore[no-untyped-def]
    """Per case and target: slices with the target, slices the model reports, and 3D Dice."""
    from medsee_cli.io import load_volume
    from medsee_cli.model.grounding.orientation import plane_view
    from medsee_cli.model.grounding.pipeline import gate_for, refine_mask
    from medsee_cli.training.evaluate import dice

    names = {int(k): v for k, v in json.loads((sample / "labels.json").read_text()).items()}
    ids = {v: k for k, v in names.items()}
    targets = ["pancreatic_lesion", "bile_duct", "pancreas", "liver"]
    import torch

    from medsee_cli.reasoning.target_text import open_target_texts

    texts = torch.from_numpy(open_target_texts(model.text_encoder).vectors(targets))
    gates = {t: gate_for(model, t) for t in targets}
    rows = []
    for case in ("jaundice", "normal"):
        volume = load_volume(sample / f"abdomen_{case}.nii.gz")
        labels = np.asarray(load_volume(sample / f"abdomen_{case}_labels.nii.gz").array())
        hu = np.asarray(volume.array(), dtype=np.float32)
        view = plane_view(volume.affine)
        predicted = {t: np.zeros(hu.shape, bool) for t in targets}
        for k in range(0, hu.shape[2]):
            images, geometries = model.prepare(np.ascontiguousarray(view.to_display(hu[:, :, k]))[None], "CT")
            features = model.encode(images)
            grounding = model.ground(features, texts)
            for t, target in enumerate(targets):
                logits, _ = refine_mask(model, features, 0, grounding.mask_logits[0, t], float(grounding.presence_logits[0, t]), gates[target])
                predicted[target][:, :, k] = view.from_display(model.to_slice(logits, geometries[0]))
        for target in targets:
            truth = labels == ids[target]
            rows.append({"case": case, "target": target, "slices_with_target": int(truth.any((0, 1)).sum()),
                         "slices_reported": int(predicted[target].any((0, 1)).sum()),
                         "dice3d": round(dice(predicted[target], truth), 3) if truth.any() else None,
                         "voxels_reported": int(predicted[target].sum())})
    return rows


def main() -> None:
    from medsee_cli.model.grounding import GroundingModel
    from medsee_cli.training.cache import build_source
    from medsee_cli.training.evaluate import evaluate
    from medsee_cli.training.recipe import load_recipe, shipped_recipe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="medsee-grounding-v1")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--recipe", type=Path, default=None, help="whose held-out sources to score (default: the shipped recipe)")
    parser.add_argument("--cache", type=Path, default=Path(".medsee-cache/grounding"))
    parser.add_argument("--sample", type=Path, default=Path("sample_data"))
    parser.add_argument("--skip-phantom", action="store_true", help="skip the whole-volume jaundice check (slow on CPU)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    model = GroundingModel.load(args.model)
    recipe = load_recipe(args.recipe or shipped_recipe(), args.data)
    started = time.perf_counter()
    holdout = [build_source(model, s, list(recipe.targets), args.cache, model.config.base_sha256)
               for s in recipe.sources if s.role == "holdout"]
    from medsee_cli.reasoning.target_text import open_target_texts

    rows = evaluate(model, holdout, list(recipe.targets), open_target_texts(model.text_encoder))
    print(f"held-out slices: {sum(len(s.slices) for s in holdout)} from {', '.join(s.name for s in holdout)}")
    print(f"{'target':<20}{'pos':>5}{'neg':>5}{'P':>7}{'R':>7}{'Dice':>7}{'coarse':>8}{'boxIoU':>8}{'Acc50':>7}{'Dice3D':>8}{'box3D':>7}")
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for r in rows:
        print(f"{r['target']:<20}{r['positives']:>5}{r['negatives']:>5}{fmt(r['presence_precision']):>7}{fmt(r['presence_recall']):>7}"
              f"{fmt(r['dice']):>7}{fmt(r['dice_coarse']):>8}{fmt(r['box_iou']):>8}{fmt(r['box_acc50']):>7}{fmt(r['dice3d']):>8}{fmt(r['box_iou3d']):>7}")
    per_source = {}
    for source in holdout:  # one source at a time: the pooled table mixes real CT, MR and phantoms
        scores = evaluate(model, [source], list(recipe.targets), open_target_texts(model.text_encoder))
        per_source[source.name] = {r["target"]: r["dice3d"] for r in scores if r["dice3d"] is not None}
        print(f"{source.name:<28}" + " ".join(f"{t} {v:.2f}" for t, v in per_source[source.name].items()))
    result = {"model": args.model, "holdout": rows, "per_source_dice3d": per_source,
              "seconds": round(time.perf_counter() - started, 1)}
    if not args.skip_phantom:
        result["jaundice"] = jaundice_check(model, args.sample)
        for r in result["jaundice"]:
            print(f"{r['case']:<9}{r['target']:<19} truth on {r['slices_with_target']:>2} slices, reported on {r['slices_reported']:>2}, Dice3D {r['dice3d']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
