"""`medsee ask` at the command line: abstention, JSON schema, bad input (fast paths only;
whole-volume segmentation runs are in tests/ask)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medsee_cli.cli.app import app

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "abdomen_normal.nii.gz"


def test_out_of_scope_question_abstains_without_segmenting(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", str(SAMPLE), "what's the weather tomorrow", "--json", "--encoder", "none",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"schema", "question", "answer", "targets", "findings", "outputs", "warnings", "scan"} <= set(data)
    assert data["schema"] == "medsee.ask/1" and data["question"] == "what's the weather tomorrow"
    assert data["abstained"] is True and data["skipped"] == [] and data["excluded"] == []
    assert data["targets"] == [] and data["findings"] == []
    assert "could not link this question" in data["answer"]
    assert data["scan"] == {"modality": "CT", "regions": ["abdomen"]}  # what the resolver ranked with


def test_text_answer_of_an_abstention(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", str(SAMPLE), "can you book me a taxi", "--encoder", "none",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "could not link this question" in result.stdout


def test_missing_image_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", str(tmp_path / "missing.nii.gz"), "liver", "--encoder", "none"])
    assert result.exit_code == 1
    assert "missing.nii.gz: no such file or folder" in result.output
    assert "Traceback" not in result.output


def test_unreadable_image_is_one_line_error(tmp_path: Path) -> None:
    image = tmp_path / "scan.nii.gz"
    image.write_bytes(b"placeholder")
    result = runner.invoke(app, ["ask", str(image), "my left kidney hurts", "--encoder", "none"])
    assert result.exit_code == 1
    assert "scan.nii.gz" in result.output and "Traceback" not in result.output
