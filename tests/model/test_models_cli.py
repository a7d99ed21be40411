"""`medsee models list|info|verify|convert` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medsee_cli.cli.app import app

runner = CliRunner()


def test_list_and_info_without_converted_weights(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["models", "list", "--model-dir", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    by_name = {row["name"]: row for row in rows}
    assert "litemedsam-base" in by_name and by_name["litemedsam-base"]["source"] == "wheel"
    info = runner.invoke(app, ["models", "info", "litemedsam-base", "--model-dir", str(tmp_path)])
    assert info.exit_code == 0 and "9791300" in info.stdout and "Apache-2.0" in info.stdout


def test_unknown_model_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "info", "nope", "--model-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope: no such model" in result.stderr and "Traceback" not in result.output


def test_convert_then_verify(tmp_path: Path) -> None:
    converted = runner.invoke(app, ["models", "convert", "litemedsam-base", "--model-dir", str(tmp_path)])
    assert converted.exit_code == 0, converted.output
    assert (tmp_path / "litemedsam-base" / "model.safetensors").is_file()
    verified = runner.invoke(app, ["models", "verify", "litemedsam-base", "--model-dir", str(tmp_path)])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.count(" ok ") == 2
    (tmp_path / "litemedsam-base" / "model.safetensors").write_bytes(b"broken")
    broken = runner.invoke(app, ["models", "verify", "litemedsam-base", "--model-dir", str(tmp_path)])
    assert broken.exit_code == 5 and "damaged" in broken.stderr
