"""`segment INGEST_DIR`: a catalog case that still has its DICOM files is read from them and gets a
DICOM-SEG (issue 16); where they are unknown, gone or changed it is read from its NIfTI and says why.

The series is real CT (../shared/data ct/patient_a, the 8 most caudal slices, where the pelvic bone
is brighter than the toy's 1500 HU "liver") written as a CT Image Storage series into a folder
named after a made-up patient, then ingested through the real `ingest`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom

from medsee_cli.services.batch_inputs import Case, list_cases, output_warnings
from medsee_cli.services.case_key import case_key
from medsee_cli.services.ingest import IngestOptions, ingest
from medsee_cli.services.segment_batch import BatchOptions, run_batch
from medsee_cli.services.series_files import NO_SEG, SHARED_NOTE
from tests.batch.toy import toy_options

PATIENT = "Doe_John_12345"


def real_ct(shared_data: Path, folder: Path, *, seed: str = "catalog-dicom", series_number: int = 3) -> list[str]:
    """The 8 most caudal slices of patient_a's CT as a DICOM series in ``folder``; their SOP UIDs."""
    from medsee_cli.synth.dicom_series import SeriesOptions, write_ct_series

    image = nib.load(shared_data / "ct/patient_a/ct.nii.gz")
    hu = np.asarray(image.dataobj)[:, :, :8]
    options = SeriesOptions(patient_name="DOE^JOHN", patient_id="MRN-4711", seed_uids=seed,
                            series_number=series_number)
    paths = write_ct_series(hu, image.affine, folder, options)
    return [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in paths]


def ingested(source: Path, out: Path, *, store_paths: bool) -> Path:
    report = ingest([source], IngestOptions(out=out, workers=1, store_paths=store_paths))
    assert report.ok and report.count("written") + report.count("up-to-date") >= 1, report.to_dict()
    return out


def only_case(ingest_dir: Path) -> Case:
    (case,) = list_cases([ingest_dir])
    return case


def key_of(case: Case) -> str:
    return case_key(case, "toy", {})


def test_a_catalog_series_with_its_dicom_files_gets_a_seg_that_references_them(shared_data: Path,
                                                                              tmp_path: Path) -> None:
    source = tmp_path / PATIENT / "CT"
    sops = real_ct(shared_data, source)
    with_paths = ingested(tmp_path / PATIENT, tmp_path / "ingest", store_paths=True)
    case = only_case(with_paths)
    assert case.source == source.resolve() and case.warnings == () and case.dicom_recorded
    assert case.content is not None and case.content.name.endswith(".nii.gz")

    out = tmp_path / "results"
    first = run_batch([with_paths], BatchOptions(toy_options(out), log=tmp_path / "log.jsonl"))
    (item,) = first.items
    assert item.status == "done" and item.warnings == () and int(first.exit_code) == 0, item
    seg = pydicom.dcmread(out / case.ident / "seg.dcm")
    series_uid = str(pydicom.dcmread(source / "IM00001.dcm", stop_before_pixels=True).SeriesInstanceUID)
    (cited,) = seg.ReferencedSeriesSequence
    assert cited.SeriesInstanceUID == series_uid == case.series_uid
    assert {str(i.ReferencedSOPInstanceUID) for i in cited.ReferencedInstanceSequence} == set(sops)
    assert seg.PatientName == "DOE^JOHN"  # copied from the source images: it needed them

    again = run_batch([with_paths], BatchOptions(toy_options(out)))
    assert [i.status for i in again.items] == ["skipped"]

    # the same series without a recorded folder: read from its NIfTI, the same mask, no SEG
    plain = ingested(tmp_path / PATIENT, tmp_path / "ingest-plain", store_paths=False)
    nifti_case = only_case(plain)
    assert nifti_case.source == nifti_case.content and not nifti_case.dicom_recorded
    (warning,) = nifti_case.warnings
    assert warning.startswith(f"{NO_SEG}; ingest recorded no folder") and "--store-paths" in warning
    other = tmp_path / "results-plain"
    run_batch([plain], BatchOptions(toy_options(other)))
    assert not (other / case.ident / "seg.dcm").exists()
    from_dicom, from_nifti = (nib.load(o / case.ident / "mask.nii.gz") for o in (out, other))
    assert np.asarray(from_dicom.dataobj).any()
    np.testing.assert_array_equal(np.asarray(from_dicom.dataobj), np.asarray(from_nifti.dataobj))
    np.testing.assert_allclose(from_dicom.affine, from_nifti.affine, atol=1e-4)
    assert json.loads((out / case.ident / "labels.json").read_text()) == json.loads(
        (other / case.ident / "labels.json").read_text())

    text = (tmp_path / "log.jsonl").read_text() + (out / "run.json").read_text()
    assert PATIENT not in text and "DOE" not in text


def test_dicom_files_gone_or_changed_fall_back_to_the_nifti_and_finished_cases_stay(shared_data: Path,
                                                                                   tmp_path: Path) -> None:
    source = tmp_path / PATIENT / "CT"
    real_ct(shared_data, source)
    ingest_dir = ingested(tmp_path / PATIENT, tmp_path / "ingest", store_paths=True)
    verified = only_case(ingest_dir)
    out = tmp_path / "results"
    run_batch([ingest_dir], BatchOptions(toy_options(out)))
    seg = out / verified.ident / "seg.dcm"
    assert seg.is_file()

    first = sorted(source.iterdir())[0]
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))
    changed = only_case(ingest_dir)
    assert changed.source == changed.content and changed.warnings == (
        f"{NO_SEG}; its DICOM files changed since ingest (run ingest again)",)
    assert key_of(changed) == key_of(verified)  # the key covers the ingested series, not the files' state
    assert output_warnings(changed, None) == changed.warnings and output_warnings(changed, ("nifti",)) == ()

    ingested(tmp_path / PATIENT, ingest_dir, store_paths=True)  # up to date: the folder is recorded again
    assert only_case(ingest_dir).warnings == ()

    for path in source.iterdir():
        path.unlink()
    source.rmdir()
    gone = only_case(ingest_dir)
    assert gone.warnings == (f"{NO_SEG}; its DICOM folder is gone",) and key_of(gone) == key_of(verified)
    kept = run_batch([ingest_dir], BatchOptions(toy_options(out)))
    assert [i.status for i in kept.items] == ["skipped"] and seg.is_file()  # pruning redoes nothing

    fresh = run_batch([ingest_dir], BatchOptions(toy_options(tmp_path / "new-results")))
    (item,) = fresh.items
    assert item.status == "done" and (tmp_path / "new-results" / verified.ident / "mask.nii.gz").is_file()
    assert not (tmp_path / "new-results" / verified.ident / "seg.dcm").exists()


def test_a_fallback_case_lists_its_warning_in_the_summary(shared_data: Path, tmp_path: Path) -> None:
    real_ct(shared_data, tmp_path / PATIENT / "CT")
    plain = ingested(tmp_path / PATIENT, tmp_path / "ingest", store_paths=False)
    summary = run_batch([plain], BatchOptions(toy_options(tmp_path / "results")))
    (item,) = summary.items
    assert item.status == "done" and item.warnings and item.warnings[0].startswith(NO_SEG)


def test_a_series_sharing_its_folder_gets_no_record_and_paths_are_kept_only_with_store_paths(
        shared_data: Path, tmp_path: Path) -> None:
    flat = tmp_path / PATIENT
    real_ct(shared_data, flat / "a", seed="one", series_number=3)
    real_ct(shared_data, flat / "b", seed="two", series_number=4)
    for path in (flat / "b").iterdir():
        path.rename(flat / "a" / f"b-{path.name}")  # two series in one folder
    report = ingest([flat], IngestOptions(out=tmp_path / "ingest", workers=1, store_paths=True))
    assert report.count("written") == 2
    assert all(SHARED_NOTE in r.notes for r in report.results if r.status == "written")
    assert all(c.warnings and "ingest recorded no folder" in c.warnings[0] for c in list_cases([tmp_path / "ingest"]))

    alone = tmp_path / "export" / PATIENT / "CT"
    real_ct(shared_data, alone, seed="three")
    (alone.parent / "notes.txt").write_text("not an image")
    (alone / "README.txt").write_text("skipped by ingest: may lie beside the series")
    out = ingested(tmp_path / "export", tmp_path / "ingest-2", store_paths=True)
    assert only_case(out).source == alone.resolve()
    ingested(tmp_path / "export", out, store_paths=False)  # a run without --store-paths forgets the path
    assert not only_case(out).dicom_recorded
    with sqlite3.connect(out / "catalog.sqlite") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump = repr([db.execute(f"SELECT * FROM {t}").fetchall() for t in tables])
    assert "dicom_files" in tables and PATIENT not in dump
