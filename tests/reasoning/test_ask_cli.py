from __future__ import annotations

import json

from typer.testing import CliRunner

from medsee_cli.cli.app import app

runner = CliRunner()


def test_ask_json_lists_targets_and_says_segmentation_is_not_there_yet(tmp_path):
    image = tmp_path / "scan.nii.gz"
    image.write_bytes(b"placeholder")
    result = runner.invoke(app, ["ask", str(image), "my left kidney hurts", "--json", "--encoder", "none"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "medsee.ask/1" and data["question"] == "my left kidney hurts"
    assert data["targets"][0]["name"] == "kidney_left" and data["targets"][0]["code"] == "64033007"
    assert set(data["targets"][0]) == {"name", "code", "score", "rationale"}
    assert data["findings"] == [] and data["outputs"] == {}
    assert "not available yet" in data["note"]


def test_ask_text_and_abstention(tmp_path):
    image = tmp_path / "scan.nii.gz"
    image.write_bytes(b"placeholder")
    result = runner.invoke(app, ["ask", str(image), "what's the weather tomorrow", "--encoder", "none"])
    assert result.exit_code == 0
    assert "could not link this question" in result.stdout and "not available yet" in result.stdout


def test_ask_missing_image_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["ask", str(tmp_path / "missing.nii.gz"), "liver", "--encoder", "none"])
    assert result.exit_code == 2
    assert "missing.nii.gz: does not exist" in result.output
    assert "Traceback" not in result.output
