"""Scores a researcher can trust: what was scored is recorded, runs reproduce, training data is
marked, --limit samples fairly, options that do not apply are refused, orientation is real."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.eval import EvalItem, EvalOptions, Sample, evaluate, load_dataset, write_outputs
from medsee_cli.eval.exposure import TrainingRecord
from medsee_cli.eval.items import Dataset
from medsee_cli.eval.sampling import sample_items
from medsee_cli.io.plane_view import plane_view
from medsee_cli.model.grounding.model import checkpoint_folder
from tests.eval.conftest import GroundTruth, Shifted

RUNNER = CliRunner()


def test_two_runs_write_identical_summaries_apart_from_the_date(mlmr_root, tmp_path):
    options = EvalOptions(worst=2)
    texts = []
    for name in ("one", "two"):
        data = load_dataset("mlmr-sd", mlmr_root, options)
        write_outputs(evaluate(data, Shifted(by=2), options), tmp_path / name, options)
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["date"]
        summary["date"] = ""
        texts.append(json.dumps(summary, sort_keys=True))
        assert (tmp_path / name / "items.csv").read_bytes() == (tmp_path / "one" / "items.csv").read_bytes()
    assert texts[0] == texts[1]
    provenance = json.loads(texts[0])["provenance"]
    assert provenance["dataset"]["name"] == "mlmr-sd" and len(provenance["dataset"]["items_sha256"]) == 64
    assert provenance["dataset"]["split"] == "test" and provenance["medsee_version"]
    assert provenance["scored"] == {"kind": "custom", "class": "Shifted"}
    report = (tmp_path / "one" / "report.md").read_text()
    assert "## What was scored" in report and provenance["dataset"]["items_sha256"] in report


def test_the_item_hash_changes_with_the_items(mlmr_root):
    options = EvalOptions(surface=False, worst=0)
    full = evaluate(load_dataset("mlmr-sd", mlmr_root, options), GroundTruth(), options).provenance
    short = evaluate(load_dataset("mlmr-sd", mlmr_root, EvalOptions(query="short", surface=False, worst=0)), GroundTruth(),
                     options).provenance
    assert full["dataset"]["items_sha256"] != short["dataset"]["items_sha256"]  # other texts, other items


def _items(targets: int, cases: int) -> tuple[EvalItem, ...]:
    sample = Sample(np.zeros((4, 4)), np.zeros((4, 4), bool), (1.0, 1.0))
    return tuple(EvalItem(f"t{t}.c{c}.{n}", f"c{c}", f"t{t}", "x", 2, lambda: sample)
                 for t in range(targets) for c in range(cases) for n in range(3))


def test_limit_samples_across_targets_and_cases_with_a_fixed_seed():
    items = _items(targets=4, cases=5)  # the first 12 items are all one target and two cases
    picked = sample_items(items, 8, seed=0)
    assert len(picked) == 8 and len({i.target for i in picked}) == 4
    assert all(len({i.case_id for i in picked if i.target == t}) == 2 for t in {i.target for i in picked})
    assert picked == sample_items(items, 8, seed=0)  # reproducible
    assert [items.index(i) for i in picked] == sorted(items.index(i) for i in picked)  # dataset order kept
    assert sample_items(items, None) == items and sample_items(items, 500) == items


def test_the_shipped_checkpoint_records_what_it_learnt_from():
    record = TrainingRecord.read(checkpoint_folder("medsee-grounding-v1")[0])
    assert record is not None
    assert "ct/patient_a/ct.nii.gz" in record.images and len(record.trained) >= 80 and record.volume > record.trained


def test_builtin_items_are_marked_by_exposure_to_training(shared_data):
    """patient_a trained slices, its held-out block, and patients the model never saw."""
    record = TrainingRecord.read(checkpoint_folder("medsee-grounding-v1")[0])
    data = load_dataset("builtin", shared_data, EvalOptions())
    by_id = {item.item_id: item for item in data.items}
    exposure = {i: record.exposure(by_id[i], by_id[i].load()) for i in by_id if i.startswith(("ct_patient_a.liver.", "mr_brain2.", "ct_deeplesion"))}
    assert exposure["ct_patient_a.liver.3d"] == "trained"
    cuts = {by_id[i].cut: e for i, e in exposure.items() if i.startswith("ct_patient_a.liver.k")}
    trained_slices = {0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60, 63, 66,
                      *range(69, 84), *range(98, 112)}
    assert cuts and all(e == ("trained" if k in trained_slices else "same_patient") for k, e in cuts.items())
    assert {e for i, e in exposure.items() if not i.startswith("ct_patient_a")} == {"held_out"}


def test_a_model_scored_on_its_training_items_reports_them_apart(shared_data):
    record = TrainingRecord.read(checkpoint_folder("medsee-grounding-v1")[0])
    data = load_dataset("builtin", shared_data, EvalOptions())
    chosen = tuple(i for i in data.items if i.item_id.startswith(("ct_patient_a.spleen.k", "mr_brain2.")))
    result = evaluate(Dataset("builtin", chosen), GroundTruth(), EvalOptions(surface=False, worst=0), record=record)
    assert set(result.by_exposure) >= {"held_out"} and sum(g["n"] for g in result.by_exposure.values()) == len(chosen)
    assert any("training record" in note for note in result.notes)
    assert {r["exposure"] for r in result.rows} <= {"trained", "same_patient", "held_out"}


def test_builtin_slices_carry_the_orientation_radiologists_see(shared_data):
    """The liver lies on the image's left (the patient's right) and anterior up, for CT stored
    R-A-S and for MR stored L-P-S: the item's affine says how its array is oriented."""
    data = load_dataset("builtin", shared_data, EvalOptions())
    for prefix in ("ct_patient_a.liver.k", "mr_patient_mr.liver.k"):
        item = next(i for i in data.items if i.item_id.startswith(prefix) and i.load().target.any())
        sample = item.load()
        assert sample.affine is not None and item.cut is not None
        volume_affine = plane_view(sample.affine)
        shown = volume_affine.to_display(sample.target)
        cols = np.flatnonzero(shown.any(axis=0))
        assert cols.mean() < shown.shape[1] / 2, prefix


def test_builtin_targets_are_knowledge_base_names(shared_data):
    from medsee_cli.reasoning.knowledge import load_knowledge

    data = load_dataset("builtin", shared_data, EvalOptions())
    assert {i.target for i in data.items} <= set(load_knowledge().names())
    assert "lesion" in {i.target for i in data.items}  # the real DeepLesion slabs


def test_exported_items_keep_orientation_and_are_still_recognised(shared_data, tmp_path):
    from medsee_cli.eval.datasets.export import export_manifest

    record = TrainingRecord.read(checkpoint_folder("medsee-grounding-v1")[0])
    data = load_dataset("builtin", shared_data, EvalOptions())
    chosen = tuple(i for i in data.items if i.item_id.startswith("mr_patient_mr.liver."))
    export_manifest(Dataset("builtin", chosen), tmp_path / "exported")
    again = load_dataset("manifest", tmp_path / "exported", EvalOptions())
    for before, after in zip(chosen, again.items):
        a, b = before.load(), after.load()
        assert np.array_equal(a.target, b.target) and np.allclose(a.affine, b.affine)
        assert record.exposure(before, a) == record.exposure(after, b)


def test_unknown_dataset_is_the_first_error():
    result = RUNNER.invoke(app, ["eval", "--dataset", "nosuch", "--query", "short"])
    assert result.exit_code == 2 and "unknown dataset" in result.output and "--predictions" not in result.output


@pytest.mark.parametrize("args, option", [
    (["--dataset", "builtin", "--query", "short", "--model", "m"], "--query"),
    (["--dataset", "builtin", "--split", "val", "--model", "m"], "--split"),
    (["--dataset", "reasoning", "--root", "q.jsonl", "--limit", "3"], "--limit"),
    (["--dataset", "mlmr-sd", "--root", "x", "--adapter", "nnunet", "--model", "m"], "--adapter"),
    (["--dataset", "builtin", "--export-dataset", "x", "--model", "m"], "--model"),
])
def test_options_that_do_not_apply_are_refused(args, option):
    result = RUNNER.invoke(app, ["eval", *args])
    assert result.exit_code == 2 and option in result.output and "does not apply" in result.output or "applies to" in result.output


def test_reasoning_writes_its_summary_with_out(tmp_path):
    questions = Path(__file__).resolve().parents[1] / "reasoning" / "data"
    path = next(questions.glob("*.jsonl"))
    result = RUNNER.invoke(app, ["eval", "--dataset", "reasoning", "--root", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["n"] > 0


def test_builtin_finds_the_data_folder_from_any_working_directory(shared_data, tmp_path, monkeypatch):
    from medsee_cli.io.data_root import data_root

    monkeypatch.delenv("MEDSEE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert data_root() is not None and data_root().resolve() == shared_data.resolve()
    monkeypatch.setenv("MEDSEE_DATA", str(tmp_path / "elsewhere"))
    assert data_root() == tmp_path / "elsewhere"


def test_builtin_scores_a_totalsegmentator_output_folder_as_it_was_written(shared_data, tmp_path):
    """`eval --dataset builtin --predictions TOTALSEG_OUT --adapter totalsegmentator`: per-class
    masks of the CT case on its own grid (made here from the case's label map, so its organs must
    score 1.0); the cases it did not segment count as missing; a target it has no class for
    (the synthetic liver lesion) fails that item with one line and the rest still score."""
    import nibabel as nib

    labels = nib.load(str(shared_data / "ct" / "patient_a" / "labels_total.nii.gz"))
    names = json.loads((shared_data / "labelmap_total.json").read_text())["total"]
    values = np.asarray(labels.dataobj)
    case = tmp_path / "totalseg" / "ct_patient_a"
    case.mkdir(parents=True)
    for value, name in names.items():
        if name in ("liver", "spleen", "kidney_left", "kidney_right", "aorta", "stomach", "gallbladder", "pancreas",
                    "urinary_bladder"):
            nib.save(nib.Nifti1Image((values == int(value)).astype(np.uint8), labels.affine), str(case / f"{name}.nii.gz"))
    result = RUNNER.invoke(app, ["eval", "--dataset", "builtin", "--root", str(shared_data), "--predictions",
                                 str(tmp_path / "totalseg"), "--adapter", "totalsegmentator", "--no-surface", "--json",
                                 "--out", str(tmp_path / "report")])
    assert result.exit_code == 1  # the lesion items failed, one line each; everything else was scored
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    import csv

    with (tmp_path / "report" / "items.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["case_id"] == "ct_patient_a" and not r["error"]]
    assert {r["target"] for r in rows} >= {"liver", "spleen", "kidney_left", "kidney_right", "aorta"}
    assert all(float(r["iou"]) == 1.0 and r["missing"] == "False" for r in rows)
    failed = {f["item_id"] for f in summary["failed"]}
    assert failed and all(".liver_lesion." in i for i in failed)
    assert summary["provenance"]["scored"]["adapter"] == "totalsegmentator"
    assert summary["summary"]["missing_predictions"] > 0  # the MR cases and lesion slabs it never saw
