"""Dataset loaders: layouts load with the right arrays and conventions; broken layouts fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.eval import EvalOptions, load_dataset
from medsee_cli.eval.datasets.refhl_convert import ConvertOptions, convert_to_refhl, split_cases
from tests.eval.conftest import save_nifti, write_jsonl


def test_mlmr_sd_loads_boxes_in_pixels_and_queries(mlmr_root):
    data = load_dataset("mlmr-sd", mlmr_root, EvalOptions())
    assert [i.item_id for i in data.items] == ["00001_img0", "00002_img1", "00003_img2"]
    assert data.items[0].text == "where is thing 0?" and data.items[0].target == "liver"
    sample = data.items[1].load()
    assert sample.target.shape == (30, 40) and sample.target.sum() == 15 * 15
    assert sample.box == pytest.approx((20.0, 10.0, 35.0, 25.0))
    assert not sample.spacing_known
    short = load_dataset("mlmr-sd", mlmr_root / "test.jsonl", EvalOptions(query="short"))
    assert short.items[0].text == "thing 0"


def test_mlmr_sd_errors_name_the_line(mlmr_root):
    lines = (mlmr_root / "test.jsonl").read_text().splitlines()
    bad = json.loads(lines[1])
    bad["bbox"] = [2, 10, 30, 40]  # pixels, not normalised
    (mlmr_root / "test.jsonl").write_text(lines[0] + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"test.jsonl:2.*normalised"):
        load_dataset("mlmr-sd", mlmr_root, EvalOptions())
    del bad["long"]
    (mlmr_root / "test.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(InputError, match="missing field.*long"):
        load_dataset("mlmr-sd", mlmr_root, EvalOptions())
    with pytest.raises(InputError, match="expected val.jsonl"):
        load_dataset("mlmr-sd", mlmr_root, EvalOptions(split="val"))


def test_manifest_mixes_2d_and_3d(manifest_root):
    data = load_dataset("manifest", manifest_root, EvalOptions())
    assert [(i.item_id, i.ndim) for i in data.items] == [("vol", 3), ("vol_k4", 2), ("absent", 2)]
    volume = data.items[0].load()
    assert volume.target.shape == (20, 16, 10) and volume.spacing == pytest.approx((1, 1, 2))
    assert volume.target.sum() == 8 * 6 * 5
    cut = data.items[1].load()  # slice k=4 as [row=j, col=i]
    assert cut.target.shape == (16, 20) and cut.target[3:9, 4:12].all() and cut.target.sum() == 48
    assert not data.items[2].load().target.any()
    train = load_dataset("manifest", manifest_root / "manifest.jsonl", EvalOptions(split="train"))
    assert [i.item_id for i in train.items] == ["vol", "vol_k4", "absent", "train_only"]


def test_manifest_needs_a_mask(manifest_root):
    write_jsonl(manifest_root / "bad.jsonl", [{"image": "ct.nii.gz", "text": "x"}])
    with pytest.raises(InputError, match=r"bad.jsonl:1: needs 'mask'"):
        load_dataset("manifest", manifest_root / "bad.jsonl", EvalOptions())


@pytest.fixture
def refhl_inputs(tmp_path: Path) -> Path:
    """Five cases: CT with a lesion (label 2) inside a liver (label 1)."""
    root = tmp_path / "raw"
    expressions = []
    for n in range(5):
        ct = np.full((24, 20, 6), -100, np.int16)
        labels = np.zeros((24, 20, 6), np.uint8)
        labels[2:20, 2:18, :] = 1
        labels[5 + n : 9 + n, 6:10, 2:4] = 2  # lesion on slices 2 and 3
        ct[labels == 1], ct[labels == 2] = 60, 20
        save_nifti(ct, root / "volumes" / f"case{n}.nii.gz", spacing=(0.8, 0.8, 5.0))
        save_nifti(labels, root / "labels" / f"case{n}.nii.gz", spacing=(0.8, 0.8, 5.0))
        expressions.append({"case": f"case{n}", "expression": f"the lesion of case {n}", "label": 2})
    write_jsonl(root / "expressions.jsonl", expressions)
    return root


NAMES = ((1, "liver"), (2, "liver_lesion"))


def test_refhl_targets_come_from_each_expressions_label(refhl_inputs, tmp_path):
    lines = [{"case": f"case{n}", "expression": text, "label": label}
             for n in range(3) for text, label in (("the liver", 1), ("the spot in the liver", 2))]
    lines.append({"case": "case3", "expression": "the thing", "label": 2, "target": "lesion"})
    write_jsonl(tmp_path / "expressions.jsonl", lines)
    out = tmp_path / "refhl"
    convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", tmp_path / "expressions.jsonl", out,
                     ConvertOptions(label_names=NAMES, ratios=(1.0, 0.0, 1.0)))
    written = [json.loads(line) for line in (out / "expressions.jsonl").read_text().splitlines()]
    by_text = {(w["expression"], w["target"]) for w in written}
    assert by_text == {("the liver", "liver"), ("the spot in the liver", "liver_lesion"), ("the thing", "lesion")}
    items = [i for split in ("train", "test") for i in load_dataset("refhl-seg", out, EvalOptions(split=split)).items]
    assert {i.target for i in items if i.text == "the liver"} == {"liver"}
    with pytest.raises(InputError, match="label 1 has no name"):  # no silent default for a labelled line
        convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", tmp_path / "expressions.jsonl",
                         tmp_path / "unnamed", ConvertOptions(ratios=(1.0, 0.0, 1.0)))
    assert not (tmp_path / "unnamed").exists()


def test_refhl_too_few_cases_for_the_splits_is_an_error_before_writing(refhl_inputs, tmp_path):
    write_jsonl(tmp_path / "two.jsonl", [{"case": f"case{n}", "expression": "the lesion", "label": 2} for n in range(2)])
    with pytest.raises(InputError, match="2 case.s. cannot fill 3 splits"):
        convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", tmp_path / "two.jsonl", tmp_path / "out",
                         ConvertOptions(label_names=NAMES))
    assert not (tmp_path / "out").exists()
    convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", tmp_path / "two.jsonl", tmp_path / "out",
                     ConvertOptions(label_names=NAMES, ratios=(1.0, 0.0, 1.0)))
    assert len(load_dataset("refhl-seg", tmp_path / "out", EvalOptions(split="test")).items) >= 1


@pytest.mark.parametrize("image_format", ["nii.gz", "png"])
def test_refhl_converter_round_trip(refhl_inputs, tmp_path, image_format):
    out = tmp_path / f"refhl_{image_format.replace('.', '')}"
    counts = convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", refhl_inputs / "expressions.jsonl",
                              out, ConvertOptions(image_format=image_format, label_names=NAMES))
    assert counts == {"cases": 5, "slices": 10, "expressions": 10}
    splits = json.loads((out / "splits.json").read_text())
    assert sum(len(v) for v in splits.values()) == 5 and len(splits["test"]) >= 1 and len(splits["val"]) >= 1
    items = []
    for split in splits:
        data = load_dataset("refhl-seg", out, EvalOptions(split=split))
        assert {i.case_id for i in data.items} == set(splits[split])  # slices never cross splits
        items += data.items
    case = int(items[0].case_id[-1])
    sample = items[0].load()
    assert sample.target.shape == (20, 24) and sample.target.sum() == 16  # [row=j, col=i]
    assert sample.target[6:10, 5 + case : 9 + case].all()
    assert sample.image[sample.target].min() == 20 and sample.image.max() == 60  # HU survive
    if image_format == "nii.gz":
        assert sample.spacing == pytest.approx((0.8, 0.8)) and sample.spacing_known


def test_refhl_rejects_a_case_in_two_splits(refhl_inputs, tmp_path):
    out = tmp_path / "refhl"
    convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", refhl_inputs / "expressions.jsonl", out, ConvertOptions(label_names=NAMES))
    splits = json.loads((out / "splits.json").read_text())
    splits["val"] = splits["val"] + splits["test"][:1]
    (out / "splits.json").write_text(json.dumps(splits))
    with pytest.raises(InputError, match="is in both"):
        load_dataset("refhl-seg", out, EvalOptions())


def test_refhl_missing_slice_is_named(refhl_inputs, tmp_path):
    out = tmp_path / "refhl"
    convert_to_refhl(refhl_inputs / "volumes", refhl_inputs / "labels", refhl_inputs / "expressions.jsonl", out, ConvertOptions(label_names=NAMES))
    test_case = json.loads((out / "splits.json").read_text())["test"][0]
    for path in (out / "images" / test_case).iterdir():
        path.unlink()
    with pytest.raises(InputError, match="slice .* not found"):
        load_dataset("refhl-seg", out, EvalOptions())


def test_split_cases_is_seeded_and_disjoint():
    cases = [f"c{n}" for n in range(20)]
    a, b = split_cases(cases, (0.7, 0.1, 0.2), 1), split_cases(cases, (0.7, 0.1, 0.2), 1)
    assert a == b and [len(a[s]) for s in ("train", "val", "test")] == [14, 2, 4]
    assert sorted(sum(a.values(), [])) == sorted(cases)


def test_builtin_from_shared_data(shared_data):
    data = load_dataset("builtin", shared_data, EvalOptions())
    ids = {i.item_id for i in data.items}
    assert {"ct_patient_a.liver.3d", "ct_patient_a.liver_lesion.3d", "mr_brain1.brain_tumor.3d"} <= ids
    assert any("not manual ground truth" in note for note in data.notes)
    kidney = next(i for i in data.items if i.item_id == "ct_patient_a.kidney_left.3d")
    assert kidney.text == "the left kidney"
    lesion = next(i for i in data.items if i.item_id == "ct_patient_a.liver_lesion.3d").load()
    assert 50 < lesion.target.sum() < 2000 and lesion.spacing == pytest.approx((3.0, 3.0, 3.0), rel=0.05)
    absent = [i for i in data.items if i.ndim == 2 and not i.load().target.any()]
    assert len(absent) >= 10  # one slice per target where it is absent


def test_refhl_accepts_dicom_and_windowed_png_slices(tmp_path):
    """A hand-made layout: one DICOM CT slice (HU via rescale) and one 8-bit windowed PNG."""
    import shutil

    from pydicom.data import get_testdata_file

    from tests.eval.conftest import save_png

    root = tmp_path / "refhl"
    (root / "images" / "a").mkdir(parents=True)
    shutil.copy(get_testdata_file("CT_small.dcm"), root / "images" / "a" / "a_s1.dcm")
    save_png(np.full((128, 128), 128, np.uint8), root / "images" / "b" / "b_s1.png")
    mask = np.zeros((128, 128), np.uint8)
    mask[40:60, 50:70] = 255
    save_png(mask, root / "masks" / "a" / "a_s1.png")
    save_png(mask, root / "masks" / "b" / "b_s1.png")
    (root / "refhl.json").write_text(json.dumps({"format": "medsee-refhl/1", "window": [40, 400], "pixel_spacing": [0.7, 0.7]}))
    (root / "splits.json").write_text(json.dumps({"train": [], "test": ["a", "b"]}))
    (root / "expressions.csv").write_text("case,slice,expression\na,a_s1,the lesion\nb,b_s1,the other lesion\n")
    data = load_dataset("refhl-seg", root, EvalOptions())
    dicom, png = (item.load() for item in data.items)
    assert dicom.spacing == pytest.approx((0.661468, 0.661468)) and dicom.spacing_known
    assert dicom.image.min() < -500  # rescaled to HU (air outside the body)
    assert png.spacing == (0.7, 0.7) and png.spacing_known and png.window == (40, 400)
    assert dicom.target.sum() == png.target.sum() == 400


def test_convert_command(refhl_inputs, tmp_path):
    """`convert_refhl_command` on its own typer app (the lead registers it in the main app)."""
    import typer
    from typer.testing import CliRunner

    from medsee_cli.cli.eval_cmd import convert_refhl_command

    app = typer.Typer()
    app.command()(convert_refhl_command)
    out = tmp_path / "converted"
    (tmp_path / "names.json").write_text('{"1": "liver", "2": "liver_lesion"}')
    args = [str(refhl_inputs / "volumes"), str(refhl_inputs / "labels"), str(refhl_inputs / "expressions.jsonl"), "--out", str(out),
            "--label-names", str(tmp_path / "names.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "10 expressions on 10 slices of 5 cases" in result.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 3 and "exists already" in again.output
