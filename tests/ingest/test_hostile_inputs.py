"""`ingest` against the hostile review of issue 10: odd names, unreadable folders, zip bombs,
its own output under the source, killed runs, concurrent runs, privacy of stored paths, logs.

Inputs are real slices of ``sample_data/abdomen_jaundice_dicom`` and real files of the shared
data, copied (and where needed altered) under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from medsee_cli.services.ingest import IngestOptions, ingest
from medsee_cli.services.sidecar import locate_slice_files

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "abdomen_jaundice_dicom"


def _slices(folder: Path, n: int = 4, start: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(start, start + n):
        shutil.copy(SAMPLE / f"IM{index:05d}.dcm", folder / f"IM{index:05d}.dcm")
    return folder


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "medsee_cli", "ingest", *args], capture_output=True, text=True, **kwargs)


def _errors(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("medsee: error:")]


def test_names_that_are_not_utf8_are_ingested_and_printed_escaped(tmp_path: Path) -> None:
    src = tmp_path / "src"
    folder = _slices(src / os.fsdecode(b"\xff\xfe"), n=3)
    (folder / "IM00003.dcm").rename(folder / os.fsdecode(b"IM\xfe3.dcm"))  # a slice with a bad name
    (folder / os.fsdecode(b"notes\xff")).write_bytes(b"free text, not DICOM" * 8)
    run = _cli(str(src), "--out", str(tmp_path / "out"), "--json", "--verbose")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["written"] == 1 and summary["failed"] == 0
    (written,) = [i for i in summary["items"] if i["status"] == "written"]
    assert written["shape"][2] == 3
    (skipped,) = [i for i in summary["items"] if i["status"] == "skipped"]
    assert skipped["item"].endswith("\\xff\\xfe/notes\\xff") and skipped["reason"] == "not a DICOM file"
    plain = _cli(str(src), "--out", str(tmp_path / "out"), "--verbose")  # table + skipped list on a pipe
    assert plain.returncode == 0 and "1 up to date" in plain.stdout
    assert "\\xff\\xfe/notes\\xff: not a DICOM file" in plain.stderr


def test_a_folder_ending_in_an_exclamation_mark_is_not_a_zip(tmp_path: Path) -> None:
    src = _slices(tmp_path / "Export!" / "CT", n=3)
    report = ingest([tmp_path / "Export!"], IngestOptions(out=tmp_path / "out"))
    assert [r.status for r in report.results] == ["written"], report.results
    # a zip inside such a folder still has members
    with zipfile.ZipFile(tmp_path / "Export!" / "more.zip", "w") as zf:
        for p in sorted(src.iterdir()):
            zf.write(p, f"z/{p.name}")
    shutil.rmtree(src)
    again = ingest([tmp_path / "Export!"], IngestOptions(out=tmp_path / "out2"))
    assert [r.status for r in again.results] == ["written"], again.results


def _unlistable_folder(parent: Path) -> Path:
    """A folder that no process can list, root included: its path is longer than PATH_MAX
    (built through directory descriptors, each name within NAME_MAX). chmod 000 would not do
    here: root reads through permissions."""
    parent.mkdir()
    fd = os.open(parent, os.O_RDONLY)
    path = parent
    try:
        while len(os.fsencode(str(path))) < os.pathconf("/", "PC_PATH_MAX"):
            name = "d" * 200
            os.mkdir(name, dir_fd=fd)
            next_fd = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = next_fd
            path = path / name
    finally:
        os.close(fd)
    return path


def test_an_unreadable_folder_is_one_failed_item(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _slices(src / "CT", n=3)
    deep = _unlistable_folder(src / "deep")
    run = _cli(str(src), "--out", str(tmp_path / "out"), "--verbose")
    assert run.returncode == 1
    (line,) = _errors(run)
    assert line == f"medsee: error: {deep}: folder cannot be read (File name too long)"
    assert "1 written, 0 up to date, 1 failed" in run.stdout


def test_zip_members_have_a_size_limit_and_are_streamed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _slices(src / "CT", n=3)
    with zipfile.ZipFile(src / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("scan/IM1", "w") as member:  # 80 MiB of zeros in ~80 KB
            for _ in range(80):
                member.write(bytes(1 << 20))
    junk = b"not a DICOM object, " * 200_000  # 4 MB, stored: a CRC error near its end
    with zipfile.ZipFile(src / "junk.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("clip", junk)
    data = bytearray((src / "junk.zip").read_bytes())
    data[data.index(junk) + len(junk) - 10] ^= 0xFF
    (src / "junk.zip").write_bytes(bytes(data))
    report = ingest([src], IngestOptions(out=tmp_path / "out"))
    by_status = {r.status: r for r in report.results}
    assert report.count("written") == 1
    failed = by_status["failed"]
    assert failed.item == f"{src / 'bomb.zip'}!/scan/IM1"
    assert "over the 200x limit for members above 67108864 bytes" in (failed.reason or "")
    # only the start of 'clip' was read: a whole read would have hit the damaged CRC
    assert (by_status["skipped"].item, by_status["skipped"].reason) == (f"{src / 'junk.zip'}!/clip", "not a DICOM file")


def test_skipped_files_are_remembered_and_not_read_again(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _slices(src / "CT", n=3)
    original = (shared_data / "dicom/highdicom_test_files/ct_image.dcm").read_bytes()
    clip = src / "other" / "clip"
    clip.parent.mkdir()
    clip.write_bytes(b"\xff" * 132 + original[132:])  # same size, but not DICOM
    stamp = clip.stat().st_mtime_ns
    out = tmp_path / "out"
    first = ingest([src], IngestOptions(out=out))
    assert [(Path(r.item).name, r.reason) for r in first.results if r.status == "skipped"] == [("clip", "not a DICOM file")]
    with sqlite3.connect(out / "catalog.sqlite") as db:
        assert db.execute("SELECT reason FROM skipped_files").fetchall() == [("not a DICOM file",)]
    clip.write_bytes(original)  # now DICOM, same size and mtime: the catalog says skip, nothing is read
    os.utime(clip, ns=(stamp, stamp))
    second = ingest([src], IngestOptions(out=out))
    assert [r.status for r in second.results] == ["skipped", "up-to-date"]
    os.utime(clip, None)  # a changed mtime: read again, and now it is a series of its own
    third = ingest([src], IngestOptions(out=out))
    assert sorted(r.status for r in third.results) == ["up-to-date", "written"]


def test_the_output_folder_inside_the_source_is_never_ingested(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _slices(src / "CT", n=3)
    out = src / "medsee-out"
    first = ingest([src], IngestOptions(out=out))
    assert first.count("written") == 1
    shutil.copytree(out, src / "copy-of-an-old-run")  # any medsee output folder, found by its catalog
    (src / "loose").mkdir()
    for p in (out / "series").iterdir():  # loose outputs, found by their sidecar schema
        shutil.copy(p, src / "loose" / p.name)
    second = ingest([src], IngestOptions(out=out))
    assert second.count("written") == 0 and second.count("up-to-date") == 1 and second.ok
    skipped = {Path(r.item).name: r.reason for r in second.results if r.status == "skipped"}
    assert skipped["medsee-out"] == skipped["copy-of-an-old-run"] == "a medsee ingest output folder, not a source (skipped)"
    assert any(name.endswith(".nii.gz") and "written by medsee ingest" in (why or "") for name, why in skipped.items())
    assert len(list((out / "series").glob("*.nii.gz"))) == 1


def test_temporary_files_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    src = _slices(tmp_path / "src", n=3)
    out = tmp_path / "out"
    ingest([src], IngestOptions(out=out))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)  # a process that has exited, like one killed with SIGKILL
    stale = [out / "series" / f".ct_0001_x.nii.gz.{dead_pid}.partial", out / f".catalog.json.{dead_pid}.partial"]
    live = out / "series" / f".ct_0001_y.nii.gz.{os.getppid()}.partial"  # its writer still runs
    for p in [*stale, live]:
        p.write_bytes(b"half")
    run = _cli(str(src), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "removed 2 temporary files of an interrupted run" in run.stdout
    assert not any(p.exists() for p in stale) and live.exists()


def test_an_ingest_on_a_busy_output_is_refused_at_once(tmp_path: Path) -> None:
    """A cron job must not hang behind a hung one: like `segment`, a second job on OUT stops at once
    (exit 2, one line naming the holder), before any work; once the folder is free it runs."""
    from medsee_cli.errors import UsageError
    from medsee_cli.io.folder_lock import folder_lock_now

    src = _slices(tmp_path / "src", n=3)
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock_now(out):  # another medsee job holds OUT
        holder = (out / ".medsee.lock").read_text().strip()
        refused = _cli(str(src), "--out", str(out), timeout=600)  # a hang guard only
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip() == (f"medsee: error: --out: {out} is in use by another medsee job ({holder}); "
                                          "run again when it has finished")
        with pytest.raises(UsageError, match="is in use by another medsee job"):
            ingest([src], IngestOptions(out=out, workers=1))
        assert list((out / "series").glob("*")) == [] and not (out / "catalog.sqlite").exists()
    run = _cli(str(src), "--out", str(out))
    assert run.returncode == 0 and "1 written" in run.stdout, run.stderr


def test_sidecars_and_catalog_hold_no_source_paths(tmp_path: Path) -> None:
    src = tmp_path / "export"
    _slices(src / "DOE_JOHN_MRN123456" / "CT", n=3)
    nifti = src / "DOE_JOHN_MRN123456" / "SMITH_ANNA.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 3), np.int16), np.eye(4)), nifti)
    out = tmp_path / "out"
    report = ingest([src], IngestOptions(out=out))
    assert report.count("written") == 2
    stored = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.name.endswith(".nii.gz"))
    names = [p.name for p in out.rglob("*")]
    for secret in (b"DOE_JOHN", b"MRN123456", b"SMITH_ANNA", os.fsencode(str(src))):
        assert secret not in stored
        assert not any(secret.decode() in n for n in names)
    (sidecar,) = [json.loads(p.read_text()) for p in (out / "series").glob("ct_*.json")]
    assert all(s["file"] is None for s in sidecar["dicom"]["slices"])
    # the files are found again from a source folder given at read time
    found = locate_slice_files(sidecar, src)
    assert sorted(Path(f).name for f in found) == ["IM00001.dcm", "IM00002.dcm", "IM00003.dcm"]
    for entry, path in zip(sidecar["dicom"]["slices"], found):
        assert pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID == entry["sop_instance_uid"]
    # and the catalog's output paths still lead to the files
    with sqlite3.connect(out / "catalog.sqlite") as db:
        rows = db.execute("SELECT nifti, sidecar FROM series").fetchall()
    assert all(not Path(n).is_absolute() and (out / n).is_file() and (out / s).is_file() for n, s in rows)
    opted = ingest([src], IngestOptions(out=tmp_path / "opted", store_paths=True))
    (meta,) = [json.loads(Path(r.sidecar).read_text()) for r in opted.results if r.key and r.key.startswith("ct_")]
    assert all("DOE_JOHN_MRN123456" in s["file"] for s in meta["dicom"]["slices"])


def test_logs_get_whole_lines_without_a_terminal(tmp_path: Path) -> None:
    src = _slices(tmp_path / "src", n=3)
    out = tmp_path / ("a-long-output-folder-name-" * 4)
    run = _cli(str(src), "--out", str(out))
    assert run.returncode == 0, run.stderr
    (row, summary) = run.stdout.splitlines()
    key, modality, shape, status, path = row.split("\t")
    assert (modality, shape, status) == ("CT", "128x128x3", "written") and key.startswith("ct_0001_")
    assert Path(path) == out / "series" / f"{key}.nii.gz" and Path(path).is_file()
    assert summary.endswith(f"catalog: {out / 'catalog.sqlite'}")


def test_nifti_inside_a_zip_is_ingested(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "mr/patient_mr/mr.nii.gz"
    with zipfile.ZipFile(tmp_path / "scans.zip", "w") as zf:
        zf.write(source, "case1/mr.nii.gz")
        zf.writestr("case1/mr.mhd", "ObjectType = Image\nElementDataFile = mr.raw\n")
    report = ingest([tmp_path / "scans.zip"], IngestOptions(out=tmp_path / "out"))
    (written,) = [r for r in report.results if r.status == "written"]
    assert written.item == f"{tmp_path / 'scans.zip'}!/case1/mr.nii.gz" and written.key.startswith("nifti_")
    ours, theirs = nib.load(written.nifti), nib.load(str(source))
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(theirs.dataobj))
    np.testing.assert_allclose(ours.affine, theirs.affine, atol=1e-5)
    (skipped,) = [r for r in report.results if r.status == "skipped"]
    assert skipped.item.endswith("!/case1/mr.mhd") and "separate data file" in (skipped.reason or "")
    assert ingest([tmp_path / "scans.zip"], IngestOptions(out=tmp_path / "out")).count("up-to-date") == 1


@pytest.mark.parametrize("name", ["seg_image_sm_control_labelmap.dcm", "seg_image_ct_binary.dcm", "sr_document.dcm"])
def test_segmentations_and_other_non_images_are_skipped(shared_data: Path, tmp_path: Path, name: str) -> None:
    src = _slices(tmp_path / "src" / "CT", n=3).parent
    shutil.copy(shared_data / "dicom/highdicom_test_files" / name, src / name)
    report = ingest([src], IngestOptions(out=tmp_path / "out"))
    assert report.count("written") == 1 and report.ok
    (skipped,) = [r for r in report.results if r.status == "skipped"]
    assert skipped.item == str(src / name) and (skipped.reason or "").startswith("not an image (")


def test_label_map_seg_is_named_in_the_skip_note(shared_data: Path, tmp_path: Path) -> None:
    shutil.copytree(shared_data / "dicom/highdicom_test_files", tmp_path / "hd")
    report = ingest([tmp_path / "hd"], IngestOptions(out=tmp_path / "out"))
    reasons = {Path(r.item).name: r.reason for r in report.results if r.status == "skipped"}
    assert reasons["seg_image_sm_control_labelmap.dcm"] == (
        "not an image (Label Map Segmentation, SOP class 1.2.840.10008.5.1.4.1.1.66.7)"
    )
    written = {Path(r.item).name for r in report.results if r.status == "written"}
    assert not any("seg" in w for w in written)


@pytest.mark.parametrize("sub,why", [("", "is a file, not a folder"), ("sub", "lies below a file, not a folder")])
def test_out_naming_a_file_is_a_usage_error_before_any_work(tmp_path: Path, sub: str, why: str) -> None:
    src = _slices(tmp_path / "src", n=3)
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / sub if sub else tmp_path / "afile"
    run = _cli(str(src), "--out", str(out))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"medsee: error: --out: {out} {why}"]
    assert (tmp_path / "afile").read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["afile", "src"]


def test_a_seg_whose_sop_class_an_anonymiser_hashed_is_still_skipped(shared_data: Path, tmp_path: Path) -> None:
    """highdicom #41: the dataset's SOPClassUID replaced by a hash; the file meta still states SEG."""
    src = _slices(tmp_path / "src" / "CT", n=3).parent
    ds = pydicom.dcmread(shared_data / "dicom/highdicom_test_files/seg_image_ct_binary.dcm")
    ds.SOPClassUID = "05703841015643452503209109170649121759226008273168"
    ds.save_as(src / "seg.dcm", enforce_file_format=False)  # the file meta keeps its own class
    report = ingest([src], IngestOptions(out=tmp_path / "out"))
    assert report.count("written") == 1 and report.ok
    (skipped,) = [r for r in report.results if r.status == "skipped"]
    assert skipped.reason == "not an image (Segmentation, SOP class 1.2.840.10008.5.1.4.1.1.66.4)"
