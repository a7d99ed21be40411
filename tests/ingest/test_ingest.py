"""`ingest` as a service and as a command: outputs, re-runs, bad items, privacy, atomicity."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.services.ingest import IngestOptions, ingest
from tests.io.dicom_helpers import small_series

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "PID-4711-SECRET"


def _export(tmp_path: Path) -> Path:
    """A PACS-export-like tree: two series, a zip, a NIfTI, junk, a broken series."""
    root = tmp_path / "export"
    small_series(root / "STUDY1/SER1", seed=1, series_number=2, patient_name=PATIENT_NAME, patient_id=PATIENT_ID)
    small_series(root / "STUDY1/SER2", seed=2, series_number=3, patient_name=PATIENT_NAME, patient_id=PATIENT_ID,
                 file_pattern="{index}")  # extension-less names
    small_series(tmp_path / "zipped", seed=3, series_number=4, patient_name=PATIENT_NAME, patient_id=PATIENT_ID)
    with zipfile.ZipFile(root / "more.zip", "w") as zf:
        for p in sorted((tmp_path / "zipped").iterdir()):
            zf.write(p, f"z/{p.name}")
    small_series(root / "STUDY2/GAPPED", seed=4, n=8, series_number=5, patient_name=PATIENT_NAME, patient_id=PATIENT_ID)
    (root / "STUDY2/GAPPED/IM00004.dcm").unlink()
    (root / "DICOMDIR.txt").write_text("index")
    (root / "garbage").write_bytes(b"\x00\x01 definitely not dicom" * 10)
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4)), root / "extra.nii.gz")
    return root


def _digest(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_ingest_writes_every_series_and_reports_bad_items(tmp_path: Path) -> None:
    root = _export(tmp_path)
    before = _digest(root)
    report = ingest([root], IngestOptions(out=tmp_path / "out"))
    written = [r for r in report.results if r.status == "written"]
    failed = [r for r in report.results if r.status == "failed"]
    assert len(written) == 4  # three DICOM series + one NIfTI
    assert len(failed) == 1 and "missing slice" in (failed[0].reason or "")
    skipped = {Path(r.item).name for r in report.results if r.status == "skipped"}
    assert {"DICOMDIR.txt", "garbage"} <= skipped
    assert _digest(root) == before  # inputs never modified
    for r in written:
        img = nib.load(r.nifti)
        meta = json.loads(Path(r.sidecar).read_text())
        assert meta["schema"] == "medsee.series/1"
        np.testing.assert_allclose(img.affine, np.array(meta["affine_ras"]), atol=1e-5)
        if meta["kind"] == "dicom":
            assert len(meta["dicom"]["slices"]) == img.shape[2]
            assert meta["dicom"]["frame_of_reference_uid"]


def test_rerun_does_no_work_and_changed_input_is_redone(tmp_path: Path) -> None:
    root = _export(tmp_path)
    out = tmp_path / "out"
    first = ingest([root], IngestOptions(out=out))
    stamps = {p: p.stat().st_mtime_ns for p in (out / "series").iterdir()}
    again = ingest([root], IngestOptions(out=out))
    assert again.count("written") == 0 and again.count("up-to-date") == first.count("written")
    assert {p: p.stat().st_mtime_ns for p in (out / "series").iterdir()} == stamps
    (root / "STUDY1/SER1/IM00001.dcm").touch()
    third = ingest([root], IngestOptions(out=out))
    assert third.count("written") == 1


def test_no_patient_identifiers_in_outputs_or_console(tmp_path: Path) -> None:
    root = _export(tmp_path)
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "medsee_cli", "ingest", str(root), "--out", str(out), "--verbose"],
        capture_output=True, text=True,
    )
    assert run.returncode == 1  # one series failed; the others were written
    errors = [line for line in run.stderr.splitlines() if line.startswith("medsee: error:")]
    assert len(errors) == 1 and "missing slice" in errors[0]
    assert "Traceback" not in run.stderr
    texts = [run.stdout, run.stderr] + [p.read_text() for p in (out / "series").glob("*.json")]
    with sqlite3.connect(out / "catalog.sqlite") as db:
        texts += [json.dumps(row) for row in db.execute("SELECT * FROM series").fetchall()]
        texts += [row[0] for row in db.execute("SELECT headers FROM header_cache").fetchall()]
    for text in texts:
        assert PATIENT_ID not in text and "Doe" not in text


def test_json_summary_and_exit_codes(tmp_path: Path) -> None:
    small_series(tmp_path / "ok", seed=9)
    run = subprocess.run(
        [sys.executable, "-m", "medsee_cli", "ingest", str(tmp_path / "ok"), "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["schema"] == "medsee.ingest/1" and summary["written"] == 1 and summary["failed"] == 0
    item = summary["items"][0]
    assert item["shape"] == [40, 32, 6] and item["modality"] == "CT" and Path(item["nifti"]).is_file()


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda p: p / "nothing-here", "no such file or folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "empty folder"),
        (lambda p: (p / "x.dcm").write_bytes(b"junk" * 50) and p / "x.dcm", "not a"),
    ],
    ids=["missing", "empty-folder", "explicit-non-dicom"],
)
def test_bad_sources_fail_alone(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    small_series(tmp_path / "good", seed=5)
    bad = make(tmp_path)
    report = ingest([bad, tmp_path / "good"], IngestOptions(out=tmp_path / "out"))
    assert report.count("written") == 1
    failures = [r for r in report.results if r.status == "failed"]
    assert len(failures) == 1 and reason in (failures[0].reason or "") and str(bad) in failures[0].item


def test_ingest_of_the_shared_dicom_tree(shared_data: Path, tmp_path: Path) -> None:
    report = ingest([shared_data / "dicom"], IngestOptions(out=tmp_path / "out"))
    assert report.count("failed") == 0, [r for r in report.results if r.status == "failed"]
    assert report.count("written") >= 60
    keys = {r.key for r in report.results if r.status == "written"}
    assert len(keys) == report.count("written")  # every series got its own output
    leftovers = [p for p in (tmp_path / "out").rglob("*.partial")]
    assert leftovers == []
