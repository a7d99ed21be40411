"""One exit-code rule for every command (medsee_cli/errors.py, README "Errors"), checked per command.

1 a bad input item, 2 a usage error, 3 an existing output, 5 a checkpoint that fails its checks.
Every case is run as a user runs it (a fresh `python -m medsee_cli`), prints exactly one
`medsee: error:` line and no traceback. Bad inputs are derived from the real CT in the shared
data (patient_a) and written to tmp_path; the damaged checkpoint is a copy of the shipped one
with bytes flipped inside its tensors.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.errors import ExitCode


class Inputs:
    """Files the cases need, made once per module from the shared data."""

    def __init__(self, shared: Path, root: Path) -> None:
        self.shared = shared
        self.root = root
        ct = nib.load(str(shared / "ct/patient_a/ct.nii.gz"))
        labels = np.asarray(nib.load(str(shared / "ct/patient_a/labels_total.nii.gz")).dataobj)
        k = int(np.argmax((labels == 5).sum(axis=(0, 1))))
        self.small = root / "small.nii.gz"  # two slices through the liver: cheap to run
        nib.save(nib.Nifti1Image(np.asarray(ct.dataobj)[:, :, k : k + 2], ct.affine), str(self.small))
        self.small_labels = root / "small_labels.nii.gz"
        nib.save(nib.Nifti1Image((labels[:, :, k : k + 2] == 5).astype(np.uint8), ct.affine), str(self.small_labels))
        (root / "small_labels.labels.json").write_text(json.dumps({"1": "liver"}))
        header = ct.header.copy()
        header.set_data_shape((30000, 30000, 30000))
        self.lying = root / "lying.nii.gz"  # probe 4: a header that claims 30000^3 voxels
        self.lying.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4))
        self.existing_file = root / "existing.txt"
        self.existing_file.write_text("an earlier output\n")
        self.earlier_answer = root / "earlier-answer"  # a result folder of an earlier run
        self.earlier_answer.mkdir()
        (self.earlier_answer / "provenance.json").write_text("{}\n")
        self.earlier_segment = root / "earlier-segment"
        (self.earlier_segment / "small").mkdir(parents=True)
        (self.earlier_segment / "small" / "provenance.json").write_text("{}\n")
        self.damaged_model = root / "damaged-model"
        from medsee_cli.model.registry import get_entry, locate

        shutil.copytree(locate(get_entry("medsee-grounding-v1")).path.parent, self.damaged_model,
                        ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        weights = self.damaged_model / "model.safetensors"
        weights.chmod(0o644)
        data = bytearray(weights.read_bytes())
        for offset in range(len(data) - 4096, len(data) - 4000):
            data[offset] ^= 0x5A
        weights.write_bytes(bytes(data))
        self.damaged_home = root / "damaged-home"  # a converted litemedsam-base whose file is broken
        (self.damaged_home / "litemedsam-base").mkdir(parents=True)
        (self.damaged_home / "litemedsam-base" / "model.safetensors").write_bytes(b"damaged")
        self.manifest = root / "manifest.jsonl"
        self.manifest.write_text(json.dumps({"id": "liver", "image": self.small.name, "mask": self.small_labels.name,
                                             "text": "the liver", "target": "liver"}) + "\n")
        self.nan_manifest = root / "nan" / "manifest.jsonl"
        self.nan_manifest.parent.mkdir()
        nan_mask = (labels[:, :, k : k + 2] == 5).astype(np.float32)
        nan_mask[0, 0, 0] = np.nan
        nib.save(nib.Nifti1Image(nan_mask, ct.affine), str(self.nan_manifest.parent / "mask.nii.gz"))
        shutil.copyfile(self.small, self.nan_manifest.parent / "ct.nii.gz")
        self.nan_manifest.write_text(json.dumps({"id": "nan", "image": "ct.nii.gz", "mask": "mask.nii.gz",
                                                 "text": "the liver", "target": "liver"}) + "\n")
        self.predictions = root / "predictions"
        self.predictions.mkdir()
        self.eval_out = root / "eval-out"
        self.eval_out.mkdir()
        (self.eval_out / "summary.json").write_text("{}\n")
        self.train_out = root / "train-out"
        self.train_out.mkdir()
        (self.train_out / "model.safetensors").write_bytes(b"an earlier model")
        self.refhl_volumes = root / "refhl-volumes"
        self.refhl_volumes.mkdir()
        shutil.copyfile(self.small, self.refhl_volumes / "p1.nii.gz")
        self.refhl_labels = root / "refhl-labels"
        self.refhl_labels.mkdir()
        shutil.copyfile(self.small_labels, self.refhl_labels / "p1.nii.gz")
        self.expressions = root / "expressions.jsonl"
        self.expressions.write_text(json.dumps({"case": "p1", "expression": "the liver", "label": 1}) + "\n")
        self.refhl_out = root / "refhl-out"
        self.refhl_out.mkdir()
        (self.refhl_out / "refhl.json").write_text("{}\n")


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return Inputs(shared_data, tmp_path_factory.mktemp("exit-codes"))


def out(inputs: Inputs, name: str) -> str:
    return str(inputs.root / "outs" / name)


Args = Callable[[Inputs], list[str]]
CASES: list[tuple[str, int, Args]] = [
    # ingest
    ("ingest bad item", ExitCode.ITEMS_FAILED, lambda i: ["ingest", str(i.lying), "--out", out(i, "ingest1")]),
    ("ingest usage", ExitCode.USAGE, lambda i: ["ingest", str(i.small)]),
    # (ingest has no "output exists" case: a re-run skips what is up to date; --out naming a file is a usage error)
    ("ingest out is a file", ExitCode.USAGE, lambda i: ["ingest", str(i.small), "--out", str(i.existing_file)]),
    # ask
    ("ask bad item", ExitCode.ITEMS_FAILED, lambda i: ["ask", str(i.lying), "where is the liver?", "--out", out(i, "ask1")]),
    ("ask usage", ExitCode.USAGE, lambda i: ["ask", str(i.small), "where is the liver?", "--bogus"]),
    ("ask empty question", ExitCode.USAGE, lambda i: ["ask", str(i.small), "  ", "--out", out(i, "ask2")]),
    ("ask out is a file", ExitCode.USAGE,
     lambda i: ["ask", str(i.small), "where is the liver?", "--out", str(i.existing_file)]),
    ("ask output exists", ExitCode.OUTPUT_EXISTS,
     lambda i: ["ask", str(i.small), "where is the liver?", "--out", str(i.earlier_answer)]),
    ("ask checkpoint", ExitCode.CHECKPOINT,
     lambda i: ["ask", str(i.small), "where is the liver?", "--model", str(i.damaged_model), "--out", out(i, "ask3")]),
    # segment
    ("segment bad item", ExitCode.ITEMS_FAILED,
     lambda i: ["segment", str(i.lying), "--target", "liver", "--out", out(i, "seg1")]),
    ("segment 4D input", ExitCode.ITEMS_FAILED,
     lambda i: ["segment", str(i.shared / "dicom/dcm_qa_ge/Ref/Ax_DWI_TENSOR_R2_1.nii"), "--target", "liver",
                "--out", out(i, "seg4")]),
    ("ask 4D input", ExitCode.ITEMS_FAILED,
     lambda i: ["ask", str(i.shared / "dicom/dcm_qa_ge/Ref/Ax_DWI_TENSOR_R2_1.nii"), "where is the liver?",
                "--out", out(i, "ask4")]),
    ("segment usage", ExitCode.USAGE,
     lambda i: ["segment", str(i.small), "--target", "liver", "--format", "bogus", "--out", out(i, "seg2")]),
    ("segment out is a file", ExitCode.USAGE,
     lambda i: ["segment", str(i.small), "--target", "liver", "--out", str(i.existing_file)]),
    ("segment output exists", ExitCode.OUTPUT_EXISTS,
     lambda i: ["segment", str(i.small), "--target", "liver", "--out", str(i.earlier_segment)]),
    ("segment checkpoint", ExitCode.CHECKPOINT,
     lambda i: ["segment", str(i.small), "--target", "liver", "--model", str(i.damaged_model), "--out", out(i, "seg3")]),
    # eval
    ("eval bad item", ExitCode.ITEMS_FAILED,
     lambda i: ["eval", "--dataset", "manifest", "--root", str(i.nan_manifest), "--predictions", str(i.predictions)]),
    ("eval usage", ExitCode.USAGE,
     lambda i: ["eval", "--dataset", "bogus", "--root", str(i.manifest), "--predictions", str(i.predictions)]),
    ("eval output exists", ExitCode.OUTPUT_EXISTS,
     lambda i: ["eval", "--dataset", "manifest", "--root", str(i.manifest), "--predictions", str(i.predictions),
                "--out", str(i.eval_out)]),
    ("eval checkpoint", ExitCode.CHECKPOINT,
     lambda i: ["eval", "--dataset", "manifest", "--root", str(i.manifest), "--model", str(i.damaged_model)]),
    # export
    ("export bad item", ExitCode.ITEMS_FAILED,
     lambda i: ["export", str(i.lying), "--format", "json", "--out", out(i, "export1.json")]),
    ("export usage", ExitCode.USAGE,
     lambda i: ["export", str(i.small_labels), "--format", "bogus", "--out", out(i, "export2")]),
    ("export output exists", ExitCode.OUTPUT_EXISTS,
     lambda i: ["export", str(i.small_labels), "--format", "json", "--out", str(i.existing_file)]),
    # models
    ("models usage", ExitCode.USAGE, lambda i: ["models", "info", "no-such-model"]),
    ("models checkpoint", ExitCode.CHECKPOINT,
     lambda i: ["models", "verify", "litemedsam-base", "--model-dir", str(i.damaged_home)]),
    # train
    ("train bad item", ExitCode.ITEMS_FAILED,
     lambda i: ["train", str(i.root / "no-such-manifest.yaml"), "--out", out(i, "train1"), "--data", str(i.shared)]),
    ("train usage", ExitCode.USAGE, lambda i: ["train", "--steps", "many", "--out", out(i, "train2")]),
    ("train output exists", ExitCode.OUTPUT_EXISTS, lambda i: ["train", "--out", str(i.train_out), "--data", str(i.shared)]),
    ("train checkpoint", ExitCode.CHECKPOINT,
     lambda i: ["train", "--init", str(i.damaged_model), "--out", out(i, "train3"), "--data", str(i.shared)]),
    # convert-refhl
    ("convert-refhl bad item", ExitCode.ITEMS_FAILED,
     lambda i: ["convert-refhl", str(i.root / "no-such-folder"), str(i.refhl_labels), str(i.expressions),
                "--out", out(i, "refhl1")]),
    ("convert-refhl usage", ExitCode.USAGE,
     lambda i: ["convert-refhl", str(i.refhl_volumes), str(i.refhl_labels), str(i.expressions), "--out", out(i, "refhl2"),
                "--image-format", "bogus"]),
    ("convert-refhl output exists", ExitCode.OUTPUT_EXISTS,
     lambda i: ["convert-refhl", str(i.refhl_volumes), str(i.refhl_labels), str(i.expressions), "--out", str(i.refhl_out)]),
]


@pytest.mark.parametrize(("case", "code", "args"), CASES, ids=[c[0] for c in CASES])
def test_exit_code(inputs: Inputs, case: str, code: int, args: Args) -> None:
    run = subprocess.run([sys.executable, "-m", "medsee_cli", *args(inputs)], capture_output=True, text=True)
    errors = [line for line in run.stderr.splitlines() if line.startswith("medsee: error: ")]
    assert run.returncode == code, f"{case}: exit {run.returncode}, stderr: {run.stderr[-800:]}"
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr[-800:]
