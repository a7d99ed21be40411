"""The command line as users meet it: help, version, start-up cost, errors, man pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medsee_cli import __version__
from medsee_cli.cli.manpages import all_pages

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ["ingest", "ask", "segment", "eval", "export", "models"]


def _medsee(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medsee_cli", *args], capture_output=True, text=True)


def test_help_lists_every_subcommand() -> None:
    run = _medsee("--help")
    assert run.returncode == 0
    for command in COMMANDS:
        assert command in run.stdout


def test_version() -> None:
    run = _medsee("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"medsee {__version__}"


def test_start_up_imports_no_heavy_library() -> None:
    code = (
        "import sys, medsee_cli.cli.app;"
        "heavy = [m for m in ('torch', 'transformers', 'pydicom', 'nibabel', 'highdicom', 'SimpleITK') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def test_domain_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    run = _medsee("ingest", str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"medsee: error: {tmp_path / 'missing'}: no such file or folder"]


USAGE_ERRORS = [
    (["--bogus"], "medsee: error: --bogus: no such option (see 'medsee --help')"),
    (["bogus"], "medsee: error: bogus: no such command (commands: ingest, ask, segment, eval, export, "
                "convert-refhl, train, models)"),
    (["ingest"], "medsee: error: SOURCES: missing argument (see 'medsee ingest --help')"),
    (["ingest", "x"], "medsee: error: --out: missing option (see 'medsee ingest --help')"),
    (["ask", "scan.nii.gz"], "medsee: error: QUESTION: missing argument (see 'medsee ask --help')"),
    (["segment", "a.nii.gz", "--batch-size", "0"], None),
    (["eval", "--dataset", "manifest", "--limit", "abc"], None),
    (["export", "x", "--format"], "medsee: error: --format: requires an argument"),
    (["train", "--overwrite=yes"], "medsee: error: --overwrite: does not take a value"),
    (["convert-refhl", "a", "b"], "medsee: error: EXPRESSIONS: missing argument (see 'medsee convert-refhl --help')"),
    (["models", "bogus"], "medsee: error: bogus: no such command (commands: list, info, verify, convert)"),
    (["models", "list", "--bogus"], "medsee: error: --bogus: no such option (see 'medsee models list --help')"),
    (["models", "info"], "medsee: error: NAME: missing argument (see 'medsee models info --help')"),
]


@pytest.mark.parametrize(("args", "line"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_with_exit_2(args: list[str], line: str | None) -> None:
    run = _medsee(*args)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("medsee: error: "), run.stderr
    assert line is None or lines[0] == line
    assert run.stdout == "" and "╭" not in run.stderr


def test_a_bad_option_value_names_the_option() -> None:
    run = _medsee("segment", "a.nii.gz", "--batch-size", "0")
    assert run.stderr.startswith("medsee: error: --batch-size: ")
    run = _medsee("eval", "--dataset", "manifest", "--limit", "abc")
    assert run.stderr.startswith("medsee: error: --limit: ")


def test_a_closed_stdout_is_a_quiet_normal_end() -> None:
    """`medsee models list --json | head -0`: the reader goes away before medsee writes."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader closed early: every write to the pipe fails with EPIPE
    run = subprocess.run([sys.executable, "-m", "medsee_cli", "models", "list", "--json"], stdout=writer,
                         stderr=subprocess.PIPE, text=True)
    os.close(writer)
    assert run.stderr == "" and run.returncode == 141


def test_a_reader_that_stops_after_a_few_lines_gets_them_and_medsee_ends_quietly() -> None:
    process = subprocess.Popen(["sh", "-c", f"'{sys.executable}' -m medsee_cli models list --json | head -3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate()
    assert out.splitlines()[0] == "[" and len(out.splitlines()) == 3
    assert err == ""


def test_man_pages_match_the_cli() -> None:
    pages = all_pages()
    committed = {p.name: p.read_text() for p in (REPO / "man").glob("*.1")}
    assert set(pages) == set(committed), "run 'make man' to regenerate the man pages"
    for name, text in pages.items():
        assert committed[name] == text, f"man/{name} is out of date: run 'make man'"
    for command in COMMANDS:
        assert f"medsee-{command}.1" in pages


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command: str) -> None:
    run = _medsee(command, "--help")
    assert run.returncode == 0 and "Usage" in run.stdout


def test_error_and_warning_lines_are_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    from medsee_cli.cli.boundary import error_line, warning_line

    error_line("scan.nii.gz: not a readable NIfTI file (first line\nsecond line)")
    warning_line("series 1.2.3: no DICOM-SEG: the source series has no SeriesInstanceUID")
    assert capsys.readouterr().err.splitlines() == [
        "medsee: error: scan.nii.gz: not a readable NIfTI file (first line second line)",
        "medsee: warning: series 1.2.3: no DICOM-SEG: the source series has no SeriesInstanceUID",
    ]


@pytest.mark.parametrize("debug", [False, True])
def test_logged_warnings_print_in_the_documented_form(debug: bool) -> None:
    """A warning a library module logs (the engine's out-of-memory retry) is one line like every
    other warning line; the logger's name (and debug messages) are shown only with --debug."""
    code = ("import logging; from medsee_cli.cli.boundary import set_debug; "
            f"set_debug({debug}); log = logging.getLogger('medsee_cli.engine.batching'); "
            "log.warning('out of memory with %d slices per batch;\\nretrying with %d', 8, 4); "
            "log.debug('a debug message')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    if debug:
        assert run.stderr.startswith("WARNING medsee_cli.engine.batching: out of memory"), run.stderr
        assert "DEBUG medsee_cli.engine.batching: a debug message" in run.stderr
    else:
        assert run.stderr.splitlines() == ["medsee: warning: out of memory with 8 slices per batch; retrying with 4"]
