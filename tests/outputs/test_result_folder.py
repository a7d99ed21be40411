"""The result folder is complete or absent: it is written beside its name and renamed; what a
killed run left behind is removed by the next one; `--out` that is a file is refused first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medsee_cli.errors import UsageError
from medsee_cli.io import load_volume
from medsee_cli.writers import WriterOptions, write_result
from tests.outputs.conftest import labelmap_for, liver_spleen, make


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_a_new_result_folder_appears_whole_and_stale_staging_is_removed(tmp_path: Path, shared_data: Path) -> None:
    volume = load_volume(make("frame_of_reference_blank", "siemens_jpegll", tmp_path / "in", shared_data))
    stale = tmp_path / f".res.{_dead_pid()}.partial"
    stale.mkdir()
    (stale / "mask.nii.gz").write_bytes(b"half")
    written = write_result(volume, labelmap_for(volume.spatial_shape), liver_spleen(), tmp_path / "res",
                           WriterOptions(formats=("nifti", "dicom-seg")))
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "res"]
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["labels.json", "mask.nii.gz", "provenance.json"]
    assert written.files["nifti"] == tmp_path / "res" / "mask.nii.gz"
    assert written.skipped == {"dicom-seg": "the source series has no FrameOfReferenceUID"}
    assert written.warnings == ["no DICOM-SEG: the source series has no FrameOfReferenceUID"]


def test_out_that_is_a_file_is_refused_before_anything_is_written(tmp_path: Path, shared_data: Path) -> None:
    volume = load_volume(make("clean", "siemens_jpegll", tmp_path / "in", shared_data))
    taken = tmp_path / "taken"
    taken.write_text("mine")
    for out in (taken, taken / "below"):
        with pytest.raises(UsageError, match="--out: .*taken"):
            write_result(volume, labelmap_for(volume.spatial_shape), liver_spleen(), out)
    assert taken.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["in", "taken"]
