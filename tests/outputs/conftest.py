"""Fixtures for the output tests: quirky real series (tests/quirks/corpus.py), label maps on
their grid, checks of a written SEG/RTSTRUCT (dciodvfy, highdicom), and a real Orthanc.

Orthanc (tests/orthanc.py) runs once per session on 127.0.0.1 with a free port and a temporary
storage folder; it is stopped at the end. Objects go to it with DICOMweb STOW-RS (`dicomweb-client`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import require_tool
from tests.orthanc import Orthanc, running_orthanc

# Variants for which no honest DICOM object can reference the source: the reason's fragment.
NOT_MADE = {
    "study_uid_blank": "the source series has no StudyInstanceUID",
    "study_uid_removed": "the source series has no StudyInstanceUID",
    "series_uid_blank": "the source series has no SeriesInstanceUID",
    "series_uid_removed": "the source series has no SeriesInstanceUID",
    "sop_uid_nowhere": "the source series has no SOPInstanceUID",
    "frame_of_reference_blank": "the source series has no FrameOfReferenceUID",
    "frame_of_reference_removed": "the source series has no FrameOfReferenceUID",
    "duplicate_sop_uid": "the source series has duplicated SOPInstanceUIDs",
    "study_uid_per_file": "the source slices disagree on StudyInstanceUID",
    "frame_of_reference_per_file": "the source slices disagree on FrameOfReferenceUID",
}


def expected_reason(name: str, source: str) -> str | None:
    """Why no SEG/RTSTRUCT can be made for this variant (a reason's start), or None."""
    if name in NOT_MADE:
        return NOT_MADE[name]
    first = pydicom.dcmread(corpus().source_files(source)[0], stop_before_pixels=True)
    if not str(first.get("FrameOfReferenceUID", "")).strip():  # the real file itself has none
        return "the source series has no FrameOfReferenceUID"
    return None


def corpus():  # type: ignore[no-untyped-def]
    from tests.quirks import corpus as module

    return module


def make(name: str, source: str, dest: Path, shared_data: Path) -> Path:
    """Variant ``name`` of ``source`` written under ``dest`` (``shared_data`` proves the data is there)."""
    return corpus().make_variant(name, source, dest)


def labelmap_for(shape: tuple[int, int, int]) -> np.ndarray:
    """Two labels on a few slices (never the first one), asymmetric to reveal flips."""
    lm = np.zeros(shape, np.uint8)
    ni, nj, nk = shape
    lm[ni // 8: ni // 2, nj // 4: nj // 2, 1: max(2, nk - 1)] = 1
    lm[ni // 2: ni - ni // 8, nj // 2: nj - nj // 8, nk // 2: nk // 2 + 1] = 2
    return lm


def liver_spleen():  # type: ignore[no-untyped-def]
    from medsee_cli.writers.labels import LabelTable

    return LabelTable.from_names({1: "liver", 2: "spleen"})


def dciodvfy_errors(path: Path) -> list[str]:
    tool = require_tool("dciodvfy")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=1800)  # a hang guard only
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


def source_uids(volume) -> tuple[str, str, list[str]]:  # type: ignore[no-untyped-def]
    """(StudyInstanceUID, FrameOfReferenceUID, SOPInstanceUIDs) as the sanitised headers state them."""
    from medsee_cli.writers.dicom_source import source_series

    source = source_series(volume)
    first = source.datasets[0]
    return str(first.StudyInstanceUID), str(first.FrameOfReferenceUID), source.sop_instance_uids()


def check_seg(path: Path, volume, labelmap: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A written SEG: 0 dciodvfy errors, highdicom reads it, references and pixels are right."""
    import highdicom as hd

    from medsee_cli.writers.dicom_read import read_seg_on

    assert dciodvfy_errors(path) == [], path
    seg = hd.seg.segread(path)
    study, frame, sops = source_uids(volume)
    assert seg.StudyInstanceUID == study and seg.FrameOfReferenceUID == frame
    referenced = {uid for _, _, uid in seg.get_source_image_uids()}
    assert referenced == set(sops)
    back, _ = read_seg_on(path, volume)
    assert np.array_equal(back, labelmap)


def check_rtstruct(path: Path, volume) -> None:  # type: ignore[no-untyped-def]
    assert dciodvfy_errors(path) == [], path
    ds = pydicom.dcmread(path)
    study, frame, sops = source_uids(volume)
    assert ds.StudyInstanceUID == study and ds.FrameOfReferenceUID == frame
    images = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    cited = {item.ReferencedSOPInstanceUID for item in images.RTReferencedSeriesSequence[0].ContourImageSequence}
    assert cited == set(sops)


def provenance(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "provenance.json").read_text())


# ------------------------------------------------------------------------------------ Orthanc


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory) -> Iterator[Orthanc]:  # type: ignore[no-untyped-def]
    """A real Orthanc (Debian package) on loopback, for this test session only (tests/orthanc.py)."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server
