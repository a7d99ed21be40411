"""Bad eval items on the command line: one `medsee: error: ITEM: REASON` line each, exit 1.

Inputs are cut from the real CT in the shared data (patient_a, liver label 5), written to tmp_path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.errors import InputError
from medsee_cli.eval import EvalOptions, load_dataset


def _cut(shared_data: Path, root: Path) -> None:
    """Six axial slices of patient_a through the liver: the CT and a float liver mask."""
    ct = nib.load(str(shared_data / "ct/patient_a/ct.nii.gz"))
    labels = np.asarray(nib.load(str(shared_data / "ct/patient_a/labels_total.nii.gz")).dataobj)
    k = int(np.argmax((labels == 5).sum(axis=(0, 1))))
    image = np.asarray(ct.dataobj)[:, :, k - 3 : k + 3]
    liver = (labels[:, :, k - 3 : k + 3] == 5).astype(np.float32)
    root.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(image, ct.affine), str(root / "ct.nii.gz"))
    nib.save(nib.Nifti1Image(liver, ct.affine), str(root / "liver.nii.gz"))
    liver_nan = liver.copy()
    liver_nan[0, 0, :] = np.nan  # background corner voxels made NaN, as a broken resampler leaves them
    nib.save(nib.Nifti1Image(liver_nan, ct.affine), str(root / "liver_nan.nii.gz"))
    lines = [
        {"id": "nan_truth", "image": "ct.nii.gz", "mask": "liver_nan.nii.gz", "text": "the liver", "target": "liver"},
        {"id": "good", "image": "ct.nii.gz", "mask": "liver.nii.gz", "text": "the liver", "target": "liver"},
    ]
    (root / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_nan_in_a_truth_mask_refuses_the_item(shared_data: Path, tmp_path: Path) -> None:
    _cut(shared_data, tmp_path / "m")
    data = load_dataset("manifest", tmp_path / "m", EvalOptions())
    items = {item.item_id: item for item in data.items}
    with pytest.raises(InputError, match=r"liver_nan\.nii\.gz: mask or label map holds 6 NaN or infinite value\(s\)"):
        items["nan_truth"].load()
    assert items["good"].load().target.sum() > 0


def test_failed_items_print_one_error_line_each_and_exit_1(shared_data: Path, tmp_path: Path) -> None:
    _cut(shared_data, tmp_path / "m")
    (tmp_path / "preds").mkdir()
    run = subprocess.run([sys.executable, "-m", "medsee_cli", "eval", "--dataset", "manifest", "--root", str(tmp_path / "m"),
                          "--predictions", str(tmp_path / "preds"), "--json"], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    mask = tmp_path / "m" / "liver_nan.nii.gz"
    assert run.stderr.splitlines() == [
        f"medsee: error: nan_truth: {mask}: mask or label map holds 6 NaN or infinite value(s); "
        "a mask must be finite (0 = background)"
    ]
    report = json.loads(run.stdout)
    assert [row["item_id"] for row in report["failed"]] == ["nan_truth"]
    assert report["summary"]["missing_predictions"] == 1
