"""Fixtures for the writer tests: a small synthetic CT series, its volume, a label map, codes.

Source series are opened with medsee's own reader (`load_volume`), so the tests run the path a
user's data takes; `tests/writers/dicom_series.volume_from_files` stays as an independent
check of that reader's geometry and references (`test_reader_agrees_with_the_dicom_definitions`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from medsee_cli.io import Volume, load_volume
from medsee_cli.reasoning.codes import Code
from medsee_cli.writers.labels import ANATOMICAL_STRUCTURE, Label, LabelTable
from tests.conftest import require_tool
from tests.writers.dicom_series import make_ct_series

LIVER = Code("10200004", "Liver")
SPLEEN = Code("78961009", "Spleen")
KIDNEY = Code("64033007", "Kidney")


def table3() -> LabelTable:
    """Liver, spleen and an absent kidney (to exercise empty segments)."""
    return LabelTable((
        Label(1, "liver", LIVER, ANATOMICAL_STRUCTURE, score=0.9),
        Label(2, "spleen", SPLEEN, ANATOMICAL_STRUCTURE, colour=(10, 200, 30)),
        Label(3, "kidney", KIDNEY, ANATOMICAL_STRUCTURE, modifier=Code("7771000", "Left")),
    ))


def blobs(shape: tuple[int, int, int]) -> np.ndarray:
    """Two asymmetric blobs (labels 1 and 2) that reveal any flip or transpose."""
    lm = np.zeros(shape, np.uint8)
    ni, nj, nk = shape
    lm[1:ni // 3, 2:nj // 2, 1:nk - 2] = 1
    lm[2, 2, nk - 2] = 1
    lm[ni // 2: ni - 2, nj // 2: nj - 1, 2:nk - 1] = 2
    lm[ni // 2, nj - 2, 2] = 0
    return lm


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """(error lines, warning lines) of dciodvfy for one file."""
    tool = require_tool("dciodvfy")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=120)
    lines = (run.stdout + run.stderr).splitlines()
    return [l for l in lines if l.startswith("Error")], [l for l in lines if l.startswith("Warning")]


def series_volume(folder: Path, **kwargs) -> Volume:  # type: ignore[no-untyped-def]
    """Write a synthetic CT series into ``folder`` (see `make_ct_series`) and open it with the reader."""
    make_ct_series(folder, **kwargs)
    return load_volume(folder)


@pytest.fixture
def ct_series(tmp_path: Path) -> Volume:
    """A 40x34x6 CT series in ``tmp_path / "ct"``, opened with medsee's reader."""
    return series_volume(tmp_path / "ct")
