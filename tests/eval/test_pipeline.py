"""The evaluation pipeline end to end: sources, saved predictions, reports and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.eval import EvalOptions, PredictorSource, SavedPredictions, evaluate, load_dataset, write_outputs
from tests.eval.conftest import GroundTruth, Shifted, save_nifti, save_png

runner = CliRunner()


def test_ground_truth_scores_perfectly(manifest_root):
    data = load_dataset("manifest", manifest_root, EvalOptions())
    result = evaluate(data, GroundTruth(), EvalOptions())
    s = result.summary
    assert s["n"] == 3 and s["n_3d"] == 1
    for key in ("giou", "ciou", "dice", "dice_nnunet", "dice_volume", "dice_slices", "box_iou", "box_acc50", "nsd"):
        assert s[key] == pytest.approx(1.0), key
    assert s["hd95"] == 0.0
    assert s["presence_slice"] == {"tp": 6, "fp": 0, "fn": 0, "tn": 6, "precision": 1.0, "recall": 1.0, "specificity": 1.0}
    assert s["presence_case"]["tp"] == 1 and s["presence_case"]["tn"] == 1


def test_shifted_prediction_hand_worked(mlmr_root):
    data = load_dataset("mlmr-sd", mlmr_root, EvalOptions())
    result = evaluate(data, Shifted(by=1), EvalOptions())
    rows = {r["item_id"]: r for r in result.rows}
    first = rows["00001_img0"]  # 10x12 rectangle moved down one row: I = 9x12, U = 11x12
    assert first["iou"] == pytest.approx(9 / 11) and first["dice"] == pytest.approx(0.9)
    assert first["box_iou"] == pytest.approx(9 / 11) and first["box_hit"] is True
    assert first["hd95"] == pytest.approx(1.0)  # pixels: MLMR-SD has no spacing
    tiny = rows["00003_img2"]  # 2x3 moved by one row: I = 1x3, U = 3x3
    assert tiny["iou"] == pytest.approx(1 / 3) and tiny["box_hit"] is False
    inters = sum(r["intersection"] for r in result.rows)
    unions = sum(r["union"] for r in result.rows)
    assert result.summary["ciou"] == pytest.approx(inters / unions)
    assert result.summary["box_acc50"] == pytest.approx(2 / 3)
    assert [r["item_id"] for r, _ in result.worst][0] == "00003_img2"


class EchoPredictor:
    """A `Predictor` in the model's shape: the item's sample + text in, (mask, box) out."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def predict(self, sample, text):
        self.texts.append(text)
        mask = np.zeros(sample.image.shape[:2], bool)
        mask[5:15, 8:20] = True
        return mask, (8.0, 5.0, 20.0, 15.0)


def test_predictor_interface(mlmr_root):
    data = load_dataset("mlmr-sd", mlmr_root, EvalOptions())
    predictor = EchoPredictor()
    result = evaluate(data, PredictorSource(predictor), EvalOptions(surface=False))
    assert predictor.texts == ["where is thing 0?", "where is thing 1?", "where is thing 2?"]
    assert result.rows[0]["iou"] == 1.0 and result.rows[0]["box_iou"] == 1.0
    assert np.isnan(result.rows[0]["hd95"])


def _save_predictions(folder: Path, data, source) -> None:
    """Write what ``source`` predicts in the predictions-folder layout (PNG for 2D, NIfTI for 3D)."""
    for item in data.items:
        sample = item.load()
        mask = source.prediction_for(item, sample).mask
        if item.ndim == 2:
            save_png(np.where(mask, 255, 0).astype(np.uint8), folder / f"{item.item_id}.png")
        else:
            save_nifti(mask.astype(np.uint8), folder / item.item_id / "mask.nii.gz")


def test_saved_predictions_match_in_memory(manifest_root, tmp_path):
    data = load_dataset("manifest", manifest_root, EvalOptions())
    _save_predictions(tmp_path / "preds", data, Shifted(by=2))
    saved = evaluate(data, SavedPredictions(tmp_path / "preds"), EvalOptions())
    direct = evaluate(data, Shifted(by=2), EvalOptions())
    for key in ("giou", "ciou", "dice", "dice_slices", "box_iou", "hd95", "nsd"):
        assert saved.summary[key] == pytest.approx(direct.summary[key], nan_ok=True), key
    assert saved.summary["missing_predictions"] == 0


def test_missing_and_misshapen_predictions(manifest_root, tmp_path):
    data = load_dataset("manifest", manifest_root, EvalOptions())
    preds = tmp_path / "preds"
    save_png(np.zeros((5, 5), np.uint8), preds / "vol_k4.png")  # wrong grid
    (preds / "absent.json").write_text(json.dumps({"box": [0, 0, 2, 2]}))  # box only
    result = evaluate(data, SavedPredictions(preds), EvalOptions())
    rows = {r["item_id"]: r for r in result.rows}
    assert rows["vol"]["missing"] and rows["vol"]["iou"] == 0.0
    assert "differs from the item's grid" in rows["vol_k4"]["error"]
    assert rows["absent"]["iou"] == 1.0 and not rows["absent"]["missing"]
    assert result.summary["n"] == 2 and len(result.failed) == 1


def test_reports_are_written(mlmr_root, tmp_path):
    options = EvalOptions(worst=2)
    data = load_dataset("mlmr-sd", mlmr_root, options)
    result = evaluate(data, Shifted(by=3), options)
    out = tmp_path / "out"
    write_outputs(result, out, options)
    with (out / "items.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["item_id"] for r in rows] == [i.item_id for i in data.items]
    assert float(rows[0]["iou"]) == pytest.approx(result.rows[0]["iou"], rel=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["n"] == 3 and summary["provenance"]["options"]["worst"] == 2
    assert len(list((out / "overlays").glob("*.png"))) == 2
    assert (out / "plots" / "iou.svg").read_text().startswith("<svg")
    assert "| spleen |" in (out / "report.md").read_text()
    assert "<img class='overlay'" in (out / "report.html").read_text()
    from medsee_cli.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_outputs(result, out, options)


def test_cli_scores_saved_predictions(manifest_root, tmp_path):
    data = load_dataset("manifest", manifest_root, EvalOptions())
    _save_predictions(tmp_path / "preds", data, GroundTruth())
    out = tmp_path / "report"
    args = ["eval", "--dataset", "manifest", "--root", str(manifest_root), "--predictions", str(tmp_path / "preds"),
            "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["giou"] == 1.0 and summary["n"] == 3
    assert (out / "report.html").is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 3 and "exists already" in again.output
    table = runner.invoke(app, args[:-1] + ["--overwrite"])
    assert table.exit_code == 0 and "gIoU" in table.stdout and "ALL" in table.stdout


def test_cli_errors_are_one_line(manifest_root, tmp_path):
    neither = runner.invoke(app, ["eval", "--dataset", "manifest", "--root", str(manifest_root)])
    assert neither.exit_code == 2 and "exactly one of --predictions" in neither.output
    model = runner.invoke(app, ["eval", "--dataset", "manifest", "--root", str(manifest_root), "--model", "no-such-model"])
    assert model.exit_code == 2 and "no-such-model" in model.output and "Traceback" not in model.output
    assert len([line for line in model.output.splitlines() if line.startswith("medsee: error:")]) == 1
    unknown = runner.invoke(app, ["eval", "--dataset", "nope", "--root", str(manifest_root), "--predictions", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown dataset" in unknown.output


def test_cli_reasoning_question_set(tmp_path):
    pytest.importorskip("medsee_cli.reasoning.resolver", reason="the reasoning resolver has not landed yet")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"query": "where is the liver?", "targets": ["liver"]}) + "\n"
                         + json.dumps({"query": "what is the weather tomorrow?", "targets": []}) + "\n")
    result = runner.invoke(app, ["eval", "--dataset", "reasoning", "--root", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 2 and len(report["items"]) == 2
    assert set(report) >= {"top1", "top3", "abstain_accuracy"}


def test_reasoning_table(capsys):
    from medsee_cli.cli.eval_cmd import print_reasoning

    report = {"n": 2, "top1": 1.0, "top3": 1.0, "abstain_accuracy": 0.0, "items": [
        {"line": 1, "query": "jaundice?", "expected": ["liver"], "predicted": ["liver", "gallbladder"],
         "abstained": False, "hit": True, "top3_hit": True},
        {"line": 2, "query": "weather?", "expected": [], "predicted": [], "abstained": False, "hit": False,
         "top3_hit": False},
    ]}
    print_reasoning(report, "q.jsonl")
    text = capsys.readouterr().out
    assert "top-1 1.000" in text and "abstention accuracy 0.000" in text and "(out of scope)" in text


def test_builtin_end_to_end_with_ground_truth(shared_data, tmp_path):
    options = EvalOptions(worst=3)
    data = load_dataset("builtin", shared_data, options)
    result = evaluate(data, Shifted(by=1), options)
    assert not result.failed and result.summary["n"] == len(data.items) > 50
    assert 0.5 < result.summary["giou"] < 1.0
    assert result.by_target["liver"]["dice_volume"] > result.by_target["liver_lesion"]["dice_volume"]
    write_outputs(result, tmp_path / "out", options)
    assert len(list((tmp_path / "out" / "overlays").glob("*.png"))) == 3


def test_exported_manifest_scores_like_the_original(mlmr_root, manifest_root, tmp_path):
    for name, root in (("mlmr-sd", mlmr_root), ("manifest", manifest_root)):
        out = tmp_path / f"export_{name}"
        result = runner.invoke(app, ["eval", "--dataset", name, "--root", str(root), "--export-dataset", str(out)])
        assert result.exit_code == 0, result.output
        original = evaluate(load_dataset(name, root, EvalOptions()), Shifted(by=1), EvalOptions())
        exported = evaluate(load_dataset("manifest", out, EvalOptions()), Shifted(by=1), EvalOptions())
        assert [r["item_id"] for r in exported.rows] == [r["item_id"] for r in original.rows]
        for key in ("giou", "ciou", "dice", "box_iou", "box_acc50", "hd95", "nsd"):
            assert exported.summary[key] == pytest.approx(original.summary[key], nan_ok=True), (name, key)


def test_volume_overlays_are_drawn_as_radiologists_read_them() -> None:
    """A voxel anterior (high j) and on the patient's right (high i) of a RAS grid lands in the
    top-left of the overlay (anterior up, patient right on the image's left)."""
    import numpy as np

    from medsee_cli.eval.items import Sample
    from medsee_cli.eval.scoring import view_of

    target = np.zeros((30, 20, 3), bool)
    target[27, 18, 1] = True  # i = 27 of 30 (right), j = 18 of 20 (anterior)
    sample = Sample(np.zeros(target.shape, np.float32), target, (1.0, 1.0, 1.0))
    view = view_of(sample, np.zeros_like(target))
    assert view.target.shape == (20, 30)
    assert [tuple(v) for v in np.argwhere(view.target)] == [(1, 2)]
