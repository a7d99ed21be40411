"""Tiny evaluation datasets generated per test: MLMR-SD, manifest (2D + 3D) and RefHL-Seg inputs."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from medsee_cli.eval.predictor import Prediction


def save_png(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def save_nifti(array: np.ndarray, path: Path, spacing=(1.0, 1.0, 2.0)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.diag([*spacing, 1.0])), str(path))
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def mlmr_root(tmp_path: Path) -> Path:
    """Three 30x40 RGB images with rectangular masks; the third target is tiny."""
    root = tmp_path / "mlmr"
    rects = [(5, 15, 8, 20), (10, 25, 20, 35), (3, 5, 3, 6)]  # rows r0:r1, cols c0:c1
    records = []
    rng = np.random.default_rng(0)
    for n, (r0, r1, c0, c1) in enumerate(rects):
        image = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)
        mask = np.zeros((30, 40), np.uint8)
        mask[r0:r1, c0:c1] = 255
        save_png(image, root / "images" / f"img{n}.png")
        save_png(mask, root / "masks" / f"img{n}.png")
        records.append({
            "image": f"images/img{n}.png", "mask": f"masks/img{n}.png", "class_text": ["liver", "kidney", "spleen"][n],
            "long": f"where is thing {n}?", "short": f"thing {n}", "bbox": [c0 / 40, r0 / 30, c1 / 40, r1 / 30],
        })
    write_jsonl(root / "test.jsonl", records)
    return root


@pytest.fixture
def manifest_root(tmp_path: Path) -> Path:
    """A 3D item (label map), a 2D slice of it, and a 2D PNG item whose target is absent."""
    root = tmp_path / "manifest"
    image = np.zeros((20, 16, 10), np.int16)
    labels = np.zeros((20, 16, 10), np.uint8)
    labels[4:12, 3:9, 2:7] = 3
    image[labels == 3] = 100
    save_nifti(image, root / "ct.nii.gz")
    save_nifti(labels, root / "labels.nii.gz")
    save_png(np.full((12, 12), 80, np.uint8), root / "slice.png")
    save_png(np.zeros((12, 12), np.uint8), root / "slice_mask.png")
    write_jsonl(root / "manifest.jsonl", [
        {"id": "vol", "image": "ct.nii.gz", "labels": "labels.nii.gz", "label": 3, "text": "the box", "target": "box", "case": "p1"},
        {"id": "vol_k4", "image": "ct.nii.gz", "labels": "labels.nii.gz", "label": 3, "slice": 4, "text": "the box", "target": "box", "case": "p1"},
        {"id": "absent", "image": "slice.png", "mask": "slice_mask.png", "text": "the box", "target": "box", "case": "p2"},
        {"id": "train_only", "image": "slice.png", "mask": "slice_mask.png", "text": "x", "split": "train"},
    ])
    return root


class GroundTruth:
    """A prediction source that returns the target itself (every score must be perfect)."""

    def prediction_for(self, item, sample):
        return Prediction(mask=sample.target.copy())


class Shifted:
    """Returns the target rolled by ``by`` pixels along the first axis."""

    def __init__(self, by: int = 1) -> None:
        self.by = by

    def prediction_for(self, item, sample):
        return Prediction(mask=np.roll(sample.target, self.by, axis=0))
