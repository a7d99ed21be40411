"""A failure in one DICOM writer costs that output only (issue 10: "a failure in one writer never
discards the model's work or the other outputs").

The source series is a quirk-corpus copy of a real GE series; after it is loaded, the files behind
it go away or change (a PACS export folder cleaned up while the model ran), or highdicom fails in a
way no source check foresaw. The mask, boxes, preview and provenance are still written; the
DICOM outputs are skipped with a reason that names no path (provenance holds no source names).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medsee_cli.io import load_volume
from medsee_cli.writers import FILES, WriterOptions, write_result
from tests.outputs.conftest import labelmap_for, liver_spleen, make

FORMATS = ("nifti", "json", "png", "dicom-seg", "rtstruct")
KEPT = ("labels", "nifti", "json", "png", "provenance")


def _write(tmp_path: Path, volume, formats=FORMATS):  # type: ignore[no-untyped-def]
    return write_result(volume, labelmap_for(volume.spatial_shape), liver_spleen(), tmp_path / "result",
                        WriterOptions(formats=formats))


def _check_kept(result, out: Path, reason: str,  # type: ignore[no-untyped-def]
                skipped=("dicom-seg", "rtstruct")) -> None:
    assert sorted(result.skipped) == sorted(skipped), result.skipped
    assert all(text.startswith(reason) for text in result.skipped.values()), result.skipped
    for fmt in KEPT:
        assert result.files[fmt].is_file(), fmt
    for fmt in skipped:
        assert not (out / FILES[fmt]).exists(), fmt
    prov = json.loads((out / "provenance.json").read_text())
    assert set(prov["not_written"]) == set(skipped) and prov["warnings"] == result.warnings
    assert str(out.parent) not in json.dumps(prov)  # no source or output path in the reasons


def test_a_source_file_deleted_after_loading_costs_only_the_dicom_outputs(tmp_path: Path, shared_data: Path) -> None:
    series = make("clean", "ge_native", tmp_path / "in", shared_data)
    volume = load_volume(series)
    sorted(series.iterdir())[2].unlink()
    result = _write(tmp_path, volume)
    _check_kept(result, tmp_path / "result", "a source file cannot be read again (No such file or directory)")


def test_a_source_folder_removed_after_loading_costs_only_the_dicom_outputs(tmp_path: Path, shared_data: Path) -> None:
    series = make("clean", "ge_native", tmp_path / "in", shared_data)
    volume = load_volume(series)
    shutil.rmtree(series)
    result = _write(tmp_path, volume)
    _check_kept(result, tmp_path / "result", "a source file cannot be read again")


def test_a_source_file_replaced_after_loading_is_not_referenced(tmp_path: Path, shared_data: Path) -> None:
    """Another instance under the same name: a SEG would reference an image the mask never saw."""
    series = make("clean", "ge_native", tmp_path / "in", shared_data)
    volume = load_volume(series)
    replacement = make("patient_blank", "ge_native", tmp_path / "later", shared_data)  # same images, other UIDs
    shutil.copyfile(sorted(replacement.iterdir())[2], sorted(series.iterdir())[2])
    result = _write(tmp_path, volume)
    _check_kept(result, tmp_path / "result", "the source files changed since the volume was read")


def test_a_source_file_that_no_longer_reads_as_dicom_is_not_referenced(tmp_path: Path, shared_data: Path) -> None:
    series = make("clean", "ge_native", tmp_path / "in", shared_data)
    volume = load_volume(series)
    sorted(series.iterdir())[0].write_bytes(b"\0" * 400)
    result = _write(tmp_path, volume)
    _check_kept(result, tmp_path / "result", "the source files changed since the volume was read")


def test_an_unforeseen_failure_inside_highdicom_costs_only_the_seg(tmp_path: Path, shared_data: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import highdicom as hd

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("an encoder highdicom could not load")

    monkeypatch.setattr(hd.seg, "Segmentation", broken)
    volume = load_volume(make("clean", "ge_native", tmp_path / "in", shared_data))
    result = _write(tmp_path, volume)
    _check_kept(result, tmp_path / "result",
                "it could not be built (RuntimeError: an encoder highdicom could not load)", skipped=("dicom-seg",))
    assert result.files["rtstruct"].is_file()


@pytest.mark.parametrize("broken", ["png", "json", "nifti"])
def test_an_unexpected_failure_in_any_writer_costs_only_its_output(tmp_path: Path, monkeypatch, broken: str) -> None:
    """A preview, boxes or mask writer that breaks in a way nobody foresaw (here: a KeyError)
    skips that one file with a one-line reason; every other output and provenance are written."""
    import numpy as np

    from medsee_cli.io.volume import Volume
    from medsee_cli.writers import result as result_module

    real = result_module.write_format

    def failing(fmt, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fmt == broken:
            raise KeyError("surprise")
        return real(fmt, *args, **kwargs)

    monkeypatch.setattr(result_module, "write_format", failing)
    volume = Volume(np.zeros((20, 20, 4), np.int16), np.eye(4), modality="CT")
    labelmap = np.zeros(volume.spatial_shape, np.uint8)
    labelmap[5:10, 5:10, 1:3] = 1
    from medsee_cli.writers import LabelTable

    out = tmp_path / "result"
    written = write_result(volume, labelmap, LabelTable.from_names({1: "liver"}), out,
                           WriterOptions(formats=("nifti", "json", "png")))
    assert set(written.skipped) == {broken}
    assert written.skipped[broken].startswith("it could not be written (KeyError: 'surprise'")
    for fmt in {"nifti", "json", "png", "labels", "provenance"} - {broken}:
        assert written.files[fmt].is_file(), fmt
    assert not (out / FILES[broken]).exists()
    assert json.loads((out / "provenance.json").read_text())["not_written"] == written.skipped
