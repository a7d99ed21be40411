"""`medsee segment` over several inputs: one folder per case, a bad input does not stop the batch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medsee_cli.errors import InputError
from medsee_cli.services.segment import SegmentOptions, case_ids, target_list


def test_case_ids_are_unique_and_folder_safe(tmp_path):
    assert case_ids(["a/ct.nii.gz", "b/ct.nii.gz", "c/scan 1.nrrd", "d/series"]) == ["ct", "ct-2", "scan_1", "series"]


def test_targets_are_checked_against_the_knowledge_base(tmp_path):
    names, texts = target_list(SegmentOptions(out=tmp_path, targets=("liver",), prompts=("the dark spot",)))
    assert names == ["liver", "prompt_1"] and texts == ["liver", "the dark spot"]
    with pytest.raises(InputError, match="not in the knowledge base"):
        target_list(SegmentOptions(out=tmp_path, targets=("flux_capacitor",)))
    with pytest.raises(InputError, match="at least one"):
        target_list(SegmentOptions(out=tmp_path))


def test_segment_command_writes_one_folder_per_case_and_goes_on_after_a_bad_input(tiny_model_dir, tiny_ct, tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti file")
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "medsee_cli", "segment", str(bad), str(tiny_ct), "--target", "liver",
         "--out", str(out), "--model", str(tiny_model_dir), "--device", "cpu", "--skip-stride", "1", "--json"],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("medsee: error:")]
    assert len(errors) == 1 and "broken.nii.gz" in errors[0] and "Traceback" not in run.stderr
    doc = json.loads(run.stdout)
    assert [c["case"] for c in doc["cases"]] == ["broken", "tiny"]
    assert [c["ok"] for c in doc["cases"]] == [False, True]
    case = out / "tiny"
    for name in ("mask.nii.gz", "labels.json", "boxes.json", "preview.png", "provenance.json"):
        assert (case / name).is_file(), name
    labels = json.loads((case / "labels.json").read_text())
    assert [label["name"] for label in labels["labels"]] == ["liver"]
    assert not (out / "broken").exists()
