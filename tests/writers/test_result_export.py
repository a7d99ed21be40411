"""Result folders, NIfTI on the exact source grid, boxes, preview, and `medsee export`."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.errors import InputError, OutputExistsError
from medsee_cli.io import read_nifti
from medsee_cli.writers import FILES, LabelTable, WriterOptions, read_result, write_result
from medsee_cli.writers.nifti_mask import GEOMETRY_FIELDS, write_label_map
from medsee_cli.writers.dicom_read import read_seg_on
from tests.writers.conftest import blobs, table3


@pytest.mark.parametrize("case", ["ct/patient_a/ct.nii.gz", "ct/patient_c_unlabelled/ct.nii.gz"])
def test_nifti_mask_header_geometry_is_byte_identical(tmp_path: Path, shared_data: Path, case: str) -> None:
    volume = read_nifti(shared_data / case)
    lm = blobs(volume.spatial_shape)
    out = nib.load(write_label_map(volume, lm, tmp_path / "mask.nii.gz", overwrite=False))
    src = nib.load(shared_data / case)
    for field in GEOMETRY_FIELDS:
        assert out.header[field].tobytes() == src.header[field].tobytes(), field
    assert out.get_data_dtype() == np.uint8 and np.array_equal(np.asarray(out.dataobj), lm)


def test_write_result_writes_every_format_and_reads_back(tmp_path: Path, ct_series) -> None:  # type: ignore[no-untyped-def]
    lm = blobs(ct_series.spatial_shape)
    formats = ("nifti", "json", "png", "dicom-seg", "rtstruct")
    result = write_result(ct_series, lm, table3(), tmp_path / "res",
                          WriterOptions(formats=formats, per_target_nifti=True, provenance={"model": "test"}))
    written = result.files
    assert result.skipped == {} and result.warnings == []
    for key in (*formats, "labels", "provenance", "mask:liver", "mask:kidney"):
        assert written[key].is_file(), key
    result = read_result(tmp_path / "res")
    assert np.array_equal(np.asarray(result.labelmap.dataobj), lm)
    assert result.labels.get(1).type.code == "10200004" and result.labels.get(1).colour is not None
    boxes = result.boxes
    assert boxes["schema"] == "medsee.boxes/1" and boxes["coordinate_system"] == "RAS"
    liver, spleen, kidney = boxes["targets"]
    assert liver["voxel_count"] == int((lm == 1).sum())
    assert liver["volume_ml"] == pytest.approx((lm == 1).sum() * ct_series.voxel_volume_ml, rel=1e-3)
    ii, jj, kk = np.nonzero(lm == 2)
    assert spleen["box_voxel"] == {"min": [ii.min(), jj.min(), kk.min()], "max": [ii.max(), jj.max(), kk.max()]}
    assert spleen["intensity"]["unit"] == "HU"
    assert spleen["intensity"]["mean"] == pytest.approx(float(ct_series.array()[lm == 2].mean()), abs=0.05)  # 0.1 HU
    first = spleen["slices"][0]
    plane = lm[:, :, first["k"]] == 2
    pi, pj = np.nonzero(plane)
    assert first["box"] == [pi.min(), pj.min(), pi.max(), pj.max()] and first["voxels"] == plane.sum()
    assert kidney["voxel_count"] == 0 and kidney["box_voxel"] is None and liver["score"] == 0.9
    prov = result.provenance
    assert prov["extra"] == {"model": "test"} and prov["source"]["kind"] == "dicom-series"
    assert prov["not_written"] == {} and prov["warnings"] == []
    assert "PHANTOM" not in json.dumps(prov) and "Phantom" not in json.dumps(prov)
    back, _ = read_seg_on(written["dicom-seg"], ct_series)
    assert np.array_equal(back, lm)
    png = Image.open(written["png"])
    assert png.mode == "RGB" and png.width >= 384


def test_existing_outputs_are_never_replaced_without_overwrite(tmp_path: Path, ct_series) -> None:  # type: ignore[no-untyped-def]
    lm = blobs(ct_series.spatial_shape)
    out = tmp_path / "res"
    out.mkdir()
    (out / FILES["json"]).write_text("mine")
    with pytest.raises(OutputExistsError):
        write_result(ct_series, lm, table3(), out)
    assert sorted(p.name for p in out.iterdir()) == [FILES["json"]]  # nothing else was written
    with pytest.raises(InputError, match=r"values \[7\] are not in the label table"):
        write_result(ct_series, np.where(lm == 2, 7, lm).astype(np.uint8), table3(), out,
                     WriterOptions(overwrite=True))
    write_result(ct_series, lm, table3(), out, WriterOptions(overwrite=True))
    assert json.loads((out / FILES["json"]).read_text())["schema"] == "medsee.boxes/1"
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_export_cli_converts_a_label_map_nifti_to_every_format(tmp_path: Path, ct_series) -> None:  # type: ignore[no-untyped-def]
    lm = blobs(ct_series.spatial_shape)
    write_result(ct_series, lm, table3(), tmp_path / "res", WriterOptions(formats=("nifti",)))
    runner = CliRunner()
    series = str(tmp_path / "ct")  # where the ct_series fixture wrote the source series
    for fmt, name in [("dicom-seg", "a.dcm"), ("rtstruct", "rt.dcm"), ("json", "b.json"), ("png", "p.png"),
                      ("nifti", "m.nii.gz")]:
        args = ["export", str(tmp_path / "res"), "--format", fmt, "--out", str(tmp_path / name)]
        if fmt in ("dicom-seg", "rtstruct"):
            args += ["--source", series]
        run = runner.invoke(app, args)
        assert run.exit_code == 0, run.output
        assert (tmp_path / name).is_file()
    assert (tmp_path / "m.labels.json").is_file()
    again = runner.invoke(app, ["export", str(tmp_path / "res"), "--format", "json", "--out", str(tmp_path / "b.json")])
    assert again.exit_code == 3 and "exists already" in again.output
    no_source = runner.invoke(app, ["export", str(tmp_path / "res"), "--format", "dicom-seg",
                                    "--out", str(tmp_path / "c.dcm")])
    assert no_source.exit_code == 1 and "has no DICOM source series" in no_source.output  # a bad input item


@pytest.mark.parametrize("name", ["liver.dcm", "liver_nonbyte_aligned_rle.dcm", "liver_expb.dcm"])
def test_export_reads_a_third_party_seg(tmp_path: Path, shared_data: Path, name: str) -> None:
    run = CliRunner().invoke(app, ["export", str(shared_data / "dicom/pydicom_data" / name), "--format", "json",
                                   "--out", str(tmp_path / "liver.json")])
    assert run.exit_code == 0, run.output
    doc = json.loads((tmp_path / "liver.json").read_text())
    assert doc["targets"][0]["name"] == "Liver" and doc["targets"][0]["voxel_count"] == 107098
    assert doc["targets"][0]["intensity"] is None  # no source image given


def test_preview_shows_patient_right_on_the_left(tmp_path: Path) -> None:
    """A RAS grid (i towards R) and an LPS grid (i towards L) give the same picture."""
    from medsee_cli.io.volume import Volume
    from medsee_cli.writers.preview import render_preview

    lm = np.zeros((40, 30, 3), np.uint8)
    lm[2:10, 5:12, 1] = 1  # low i: patient left on the RAS grid below
    image = np.zeros(lm.shape, np.float32)
    table = LabelTable.from_names({1: "target"})
    ras = Volume(dataobj=image, affine=np.diag([1.0, 1.0, 1.0, 1.0]), modality="CT")
    lps = Volume(dataobj=image[::-1, ::-1], affine=np.diag([-1.0, -1.0, 1.0, 1.0]), modality="CT")
    a = np.asarray(render_preview(ras, lm, table, "CT"))
    b = np.asarray(render_preview(lps, np.ascontiguousarray(lm[::-1, ::-1]), table, "CT"))
    assert np.array_equal(a, b)
    body = a[30:-30].astype(int)  # below the caption, above the orientation letter
    coloured = np.argwhere((body[..., 0] != body[..., 1]) | (body[..., 1] != body[..., 2]))
    assert coloured[:, 1].mean() > a.shape[1] / 2  # patient left = image right


def test_preview_caption_gives_the_finding_s_own_volume_when_known(monkeypatch) -> None:
    """A finding partly painted over by a smaller one is captioned with its full volume."""
    from medsee_cli.io.volume import Volume
    from medsee_cli.writers import preview
    from medsee_cli.writers.labels import Label

    captions: list[str] = []
    real_panel = preview._panel
    monkeypatch.setattr(preview, "_panel", lambda *a, **k: captions.append(a[4]) or real_panel(*a, **k))
    lm = np.zeros((20, 20, 2), np.uint8)
    lm[2:12, 2:12, 1] = 1  # 100 voxels of 2x2x2 mm = 0.8 mL shown
    volume = Volume(dataobj=np.zeros(lm.shape, np.float32), affine=np.diag([2.0, 2.0, 2.0, 1.0]), modality="CT")
    preview.render_preview(volume, lm, LabelTable((Label(1, "duct"),)), "CT")
    preview.render_preview(volume, lm, LabelTable((Label(1, "duct", volume_ml=1.25),)), "CT")
    assert captions == ["duct  0.8 mL  slice 1", "duct  1.2 mL  slice 1"]


def test_boxes_say_which_slices_medsee_drew_instead_of_running_the_model(ct_series) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from medsee_cli.writers.boxes import boxes_document

    lm = blobs(ct_series.spatial_shape)
    liver_slices = sorted({int(k) for k in np.nonzero(lm == 1)[2]})
    drawn = tuple(liver_slices[1:-1:2])  # every other slice inside the liver's run, as bridging would leave
    labels = table3()
    table = LabelTable((replace(labels.get(1), drawn=drawn),) + tuple(labels)[1:])
    document = boxes_document(ct_series, lm, table, "CT", intensities=False)
    liver, spleen, _ = document["targets"]
    assert [e["k"] for e in liver["slices"] if e["drawn"]] == list(drawn)
    assert not any(e["drawn"] for e in spleen["slices"])  # a label nobody drew (or another tool's mask)
    assert "drawn" not in table.get(1).to_json()  # labels.json stays the label table
