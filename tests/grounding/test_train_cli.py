"""`medsee train` through typer: help, and clean one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from medsee_cli.cli.train_cmd import train

app = typer.Typer()
app.command("train")(train)
app.command("noop")(lambda: None)  # two commands, so "train" is addressed by name as in medsee
runner = CliRunner()


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--data", "--cache", "--init", "--minutes", "--steps"):
        assert option in result.output


def test_missing_manifest_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "nope.yaml" in result.output and "Traceback" not in result.output


def test_refuses_to_overwrite_a_model_without_the_flag(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.safetensors").write_bytes(b"x")
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "m")])
    assert result.exit_code == 3 and "exists already" in result.output
