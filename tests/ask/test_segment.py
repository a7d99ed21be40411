"""`medsee segment` over several inputs: one folder per case, a bad input does not stop the batch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from medsee_cli.errors import UsageError
from medsee_cli.services.segment import SegmentOptions, case_ids, target_list
from tests.ask.test_ask_schema import FINDING_KEYS, MEASUREMENT_KEYS


def test_case_ids_are_unique_and_folder_safe(tmp_path):
    assert case_ids(["a/ct.nii.gz", "b/ct.nii.gz", "c/scan 1.nrrd", "d/series"]) == ["ct", "ct-2", "scan_1", "series"]


def test_targets_are_checked_against_the_knowledge_base(tmp_path):
    names, texts = target_list(SegmentOptions(out=tmp_path, targets=("liver",), prompts=("the dark spot",)))
    assert names == ["liver", "prompt_1"] and texts == ["liver", "the dark spot"]
    with pytest.raises(UsageError, match="not in the knowledge base"):
        target_list(SegmentOptions(out=tmp_path, targets=("flux_capacitor",)))
    with pytest.raises(UsageError, match="at least one"):
        target_list(SegmentOptions(out=tmp_path))


def test_segment_command_writes_one_folder_per_case_and_goes_on_after_a_bad_input(tiny_model_dir, tiny_ct, tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti file")
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "medsee_cli", "segment", str(bad), str(tiny_ct), "--target", "liver",
         "--out", str(out), "--model", str(tiny_model_dir), "--device", "cpu", "--skip-stride", "1", "--json"],
        capture_output=True, text=True, timeout=3600)  # a hang guard, not a speed check
    assert run.returncode == 1, run.stderr  # a bad input item: exit 1, the batch went on
    errors = [line for line in run.stderr.splitlines() if line.startswith("medsee: error:")]
    assert len(errors) == 1 and "broken.nii.gz" in errors[0] and "Traceback" not in run.stderr
    doc = json.loads(run.stdout)
    assert [c["case"] for c in doc["cases"]] == ["broken", "tiny"]
    assert [c["ok"] for c in doc["cases"]] == [False, True]
    finding = doc["cases"][1]["findings"][0]  # measured and serialised as `ask --json` gives it
    assert set(finding) == FINDING_KEYS and set(finding["measurements"]) == MEASUREMENT_KEYS
    assert all(set(s) == {"index", "number", "table_mm", "box", "score", "drawn"} for s in finding["slices"])
    assert doc["cases"][1]["slice_numbers"]["scheme"] == "1-based" and doc["cases"][0]["slice_numbers"] is None
    case = out / "tiny"
    for name in ("mask.nii.gz", "labels.json", "boxes.json", "preview.png", "provenance.json"):
        assert (case / name).is_file(), name
    labels = json.loads((case / "labels.json").read_text())
    assert [label["name"] for label in labels["labels"]] == ["liver"]
    assert not (out / "broken").exists()


def test_format_picks_the_files_and_refuses_what_an_input_cannot_get(tiny_model_dir, tiny_ct, tmp_path):
    """--format writes exactly the chosen files; DICOM outputs need a DICOM source and coded
    targets; the refusal names the image and comes before the model runs."""
    from medsee_cli.io import load_volume
    from medsee_cli.services.segment import segment
    from medsee_cli.synth.dicom_series import write_ct_series
    from tests.ask.conftest import EVERYTHING

    source = load_volume(tiny_ct)
    dicom = tmp_path / "tiny_dicom"
    write_ct_series(np.asarray(source.dataobj), source.affine, dicom)
    common = dict(model=str(tiny_model_dir), engine=EVERYTHING)

    picked = list(segment([tiny_ct, dicom], SegmentOptions(out=tmp_path / "a", targets=("liver",), formats=("nifti", "json"), **common)))
    assert [c.ok for c in picked] == [True, True]
    for case in ("tiny", "tiny_dicom"):
        assert sorted(p.name for p in (tmp_path / "a" / case).iterdir()) == ["boxes.json", "done.json", "labels.json", "mask.nii.gz", "provenance.json"]

    both = list(segment([tiny_ct, dicom], SegmentOptions(out=tmp_path / "b", targets=("liver",), formats=("rtstruct", "dicom-seg"), **common)))
    assert not both[0].ok and "tiny.nii.gz" in both[0].error and "needs a DICOM source series" in both[0].error
    assert both[1].ok and not (tmp_path / "b" / "tiny").exists()
    written = sorted(p.name for p in (tmp_path / "b" / "tiny_dicom").iterdir())
    assert both[1].findings[0].present  # the seeded random head, gate wide open, marks something
    assert written == ["done.json", "labels.json", "provenance.json", "rtstruct.dcm", "seg.dcm"]
    assert both[1].outputs["rtstruct"].endswith("rtstruct.dcm") and both[1].outputs["mask"] is None

    with pytest.raises(UsageError, match="free prompts"):  # known from the command line: before any work
        list(segment([dicom], SegmentOptions(out=tmp_path / "c", prompts=("the dark spot",), formats=("dicom-seg",), **common)))
    assert not (tmp_path / "c").exists()
    with pytest.raises(UsageError, match="unknown output format"):
        list(segment([tiny_ct], SegmentOptions(out=tmp_path / "d", targets=("liver",), formats=("nifti", "stl"), **common)))


def test_an_unexpected_error_in_one_case_does_not_end_the_batch(tiny_model_dir, tiny_ct, tmp_path, monkeypatch):
    """Whatever breaks on one case (here a KeyError nobody foresaw) is that case's one line; the
    next case is still segmented and written."""
    from medsee_cli.services import inputs
    from medsee_cli.services.segment import segment
    from tests.ask.conftest import EVERYTHING

    real = inputs.read_input

    def flaky(image, series=None):  # type: ignore[no-untyped-def]
        if "first" in str(image):
            raise KeyError("surprise")
        return real(image, series)

    monkeypatch.setattr(inputs, "read_input", flaky)
    first = tmp_path / "first.nii.gz"
    first.write_bytes(tiny_ct.read_bytes())
    cases = list(segment([first, tiny_ct], SegmentOptions(out=tmp_path / "out", targets=("liver",),
                                                          model=str(tiny_model_dir), engine=EVERYTHING)))
    assert [c.ok for c in cases] == [False, True]
    assert cases[0].error == f"{first}: KeyError: 'surprise'" and cases[0].exit_code == 1
    assert (tmp_path / "out" / cases[1].case_id / "provenance.json").is_file()
