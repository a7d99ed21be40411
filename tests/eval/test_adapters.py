"""Other tools' output folders scored as predictions: TotalSegmentator, nnU-Net and MedSAM.

Every folder is built here, in each tool's own layout, from one small labelled case; the items
are a 3D item and a 2D item cut from the case (``EvalItem.cut``) per target, so a correct
adapter scores 1.0 on every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.errors import InputError, UsageError
from medsee_cli.eval import EvalOptions, SavedPredictions, evaluate
from medsee_cli.eval.adapters import ADAPTER_DOCS, ADAPTERS, MedSAMOutput, NnUNetOutput, TotalSegmentatorOutput, open_adapter
from medsee_cli.eval.adapters.targets import classes_for, mapping
from medsee_cli.eval.items import Dataset, EvalItem, Sample, plane_affine, plane_of
from medsee_cli.reasoning.knowledge import load_knowledge

SHAPE = (12, 10, 6)
SPACING = (1.0, 1.5, 2.0)
AFFINE = np.array([[1.0, 0, 0, -5.0], [0, 1.5, 0, 10.0], [0, 0, 2.0, 3.0], [0, 0, 0, 1.0]])
IDS = {"spleen": 1, "kidney_right": 2, "kidney_left": 3, "liver": 5, "vertebrae_L2": 30, "vertebrae_L1": 31}
UNIONS = {"kidneys": ("kidney_left", "kidney_right"), "vertebrae": ("vertebrae_L1", "vertebrae_L2")}
OPTIONS = EvalOptions(surface=False, worst=0)


def case_labels() -> np.ndarray:
    """One case's label map ``[i, j, k]``, numbered as TotalSegmentator numbers these classes."""
    labels = np.zeros(SHAPE, np.uint8)
    labels[1:6, 1:5, 1:5] = IDS["liver"]
    labels[7:11, 1:4, 2:5] = IDS["spleen"]
    labels[1:4, 6:9, 0:3] = IDS["kidney_right"]
    labels[8:11, 6:9, 1:4] = IDS["kidney_left"]
    labels[5:7, 7:9, 3:5] = IDS["vertebrae_L1"]
    labels[5:7, 7:9, 1:3] = IDS["vertebrae_L2"]
    return labels


def truth(labels: np.ndarray, target: str) -> np.ndarray:
    return np.isin(labels, [IDS.get(name, -1) for name in UNIONS.get(target, (target,))])  # -1: nowhere


def _loader(image: np.ndarray, target: np.ndarray, spacing: tuple[float, ...], affine: np.ndarray | None):
    return lambda: Sample(image=image, target=target, spacing=spacing, affine=affine)


def items_for(case_id: str, targets: list[str], labels: np.ndarray | None = None, oriented: bool = True) -> list[EvalItem]:
    """Per target: the 3D item and the 2D item cut at the middle of the target's extent."""
    labels = case_labels() if labels is None else labels
    image = np.zeros(labels.shape, np.float32)
    items = []
    for target in targets:
        mask = truth(labels, target)
        present = np.flatnonzero(mask.any(axis=(0, 1)))
        k = int(present[len(present) // 2]) if len(present) else labels.shape[2] // 2
        items.append(EvalItem(f"{case_id}.{target}.3d", case_id, target, target, 3,
                              _loader(image, mask, SPACING, AFFINE if oriented else None)))
        items.append(EvalItem(f"{case_id}.{target}.k{k}", case_id, target, target, 2,
                              _loader(plane_of(image, k), plane_of(mask, k), (SPACING[1], SPACING[0]),
                                      plane_affine(AFFINE, k) if oriented else None), cut=k))
    return items


def run(items: list[EvalItem], source) -> dict[str, dict]:
    result = evaluate(Dataset(name="t", items=tuple(items)), source, OPTIONS)
    return {row["item_id"]: row for row in result.rows}


def assert_perfect(rows: dict[str, dict], case_id: str = "") -> None:
    for item_id, row in rows.items():
        if item_id.startswith(case_id):
            assert not row.get("error"), (item_id, row.get("error"))
            assert not row["missing"], item_id
            assert row["target_voxels"] > 0 and row["dice"] == pytest.approx(1.0), item_id


def save_nifti(array: np.ndarray, path: Path, affine: np.ndarray = AFFINE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, affine), str(path))
    return path


def class_folder(case_dir: Path, labels: np.ndarray, affine: np.ndarray = AFFINE) -> None:
    """TotalSegmentator's default output: one binary mask per class, every class written."""
    for name, value in IDS.items():
        save_nifti((labels == value).astype(np.uint8), case_dir / f"{name}.nii.gz", affine)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


TARGETS = ["liver", "spleen", "kidneys", "kidney_left", "vertebrae"]


# --- TotalSegmentator ------------------------------------------------------------------------

def test_totalsegmentator_class_folders(tmp_path):
    class_folder(tmp_path / "ts" / "case1", case_labels())
    source = open_adapter("totalsegmentator", tmp_path / "ts")
    rows = run(items_for("case1", TARGETS), source)
    assert len(rows) == 10
    assert_perfect(rows)


def test_kidneys_are_the_union_of_left_and_right(tmp_path):
    labels = case_labels()
    class_folder(tmp_path / "ts" / "case1", labels)
    item = items_for("case1", ["kidneys"])[0]
    mask = TotalSegmentatorOutput(tmp_path / "ts").prediction_for(item, item.load()).mask
    assert mask is not None
    np.testing.assert_array_equal(mask, (labels == IDS["kidney_left"]) | (labels == IDS["kidney_right"]))
    assert mask.sum() == 27 + 27


@pytest.mark.parametrize("names_file, names", [
    ("labels.json", {str(v): k for k, v in IDS.items()}),                        # TotalSegmentator's numbering
    ("dataset.json", {"labels": {"background": 0, **IDS}}),                      # nnU-Net v2 style
    ("case1.json", {str(v): k for k, v in IDS.items()}),                         # beside the case's file
])
def test_totalsegmentator_multilabel(tmp_path, names_file, names):
    save_nifti(case_labels(), tmp_path / "ts" / "case1.nii.gz")
    write_json(tmp_path / "ts" / names_file, names)
    assert_perfect(run(items_for("case1", TARGETS), open_adapter("totalsegmentator", tmp_path / "ts")))


def test_multilabel_without_label_names_fails_per_item(tmp_path):
    save_nifti(case_labels(), tmp_path / "ts" / "case1.nii.gz")  # --ml output, nothing names its values
    class_folder(tmp_path / "ts" / "case2", case_labels())
    rows = run(items_for("case1", ["liver", "kidneys"]) + items_for("case2", ["liver"]), open_adapter("totalsegmentator", tmp_path / "ts"))
    failed = [r for r in rows.values() if r.get("error")]
    assert len(failed) == 4
    for row in failed:
        assert row["case_id"] == "case1"
        assert row["error"].startswith(str(tmp_path / "ts" / "case1.nii.gz") + ": no label names")
    assert_perfect(rows, "case2")


# --- nnU-Net ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", [
    {"labels": {"background": 0, "spleen": 1, "right kidney": 2, "left kidney": 3, "liver": 5,
                "vertebrae_L2": 30, "vertebrae_L1": 31}, "file_ending": ".nii.gz"},   # v2, AMOS-style names
    {"labels": {"0": "background", **{str(v): k for k, v in IDS.items()}}},           # v1
    {"labels": {"background": 0, "liver": 5, "spleen": 1, "kidney_left": 3, "kidneys": [2, 3],
                "vertebrae": [30, 31]}, "file_ending": ".nii.gz"},                       # v2 regions
])
def test_nnunet_label_maps(tmp_path, dataset):
    save_nifti(case_labels(), tmp_path / "nn" / "case1.nii.gz")
    write_json(tmp_path / "nn" / "dataset.json", dataset)
    assert_perfect(run(items_for("case1", TARGETS), open_adapter("nnunet", tmp_path / "nn")))


def test_flipped_and_permuted_axes_are_reoriented(tmp_path):
    labels = case_labels()
    ni, _, nk = labels.shape
    # the tool stored voxel (a, b, c) = item voxel (ni-1-b, a, nk-1-c): axes swapped, i and k flipped
    stored = np.ascontiguousarray(labels[::-1, :, ::-1].transpose(1, 0, 2))
    to_item = np.array([[0, -1, 0, ni - 1], [1, 0, 0, 0], [0, 0, -1, nk - 1], [0, 0, 0, 1]], dtype=float)
    save_nifti(stored, tmp_path / "nn" / "case1.nii.gz", AFFINE @ to_item)
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    class_folder(tmp_path / "ts" / "case1", labels[::-1, ::-1], AFFINE @ np.diag([-1.0, -1.0, 1.0, 1.0]) @ _shift(ni, SHAPE[1]))
    items = items_for("case1", TARGETS)
    assert_perfect(run(items, open_adapter("nnunet", tmp_path / "nn")))
    assert_perfect(run(items, open_adapter("totalsegmentator", tmp_path / "ts")))


def _shift(ni: int, nj: int) -> np.ndarray:
    shift = np.eye(4)
    shift[0, 3], shift[1, 3] = -(ni - 1), -(nj - 1)
    return shift


def test_a_resampled_grid_is_refused(tmp_path):
    save_nifti(case_labels(), tmp_path / "nn" / "case1.nii.gz", AFFINE @ np.diag([1.0, 1.0, 0.5, 1.0]))
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    rows = run(items_for("case1", ["liver"]), open_adapter("nnunet", tmp_path / "nn"))
    assert all("differs from the item's image by more than axis order and flips" in r["error"] for r in rows.values())


def test_without_affines_the_stored_order_is_taken(tmp_path):
    save_nifti(case_labels(), tmp_path / "nn" / "case1.nii.gz", np.diag([3.0, 3.0, 3.0, 1.0]))
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    assert_perfect(run(items_for("case1", TARGETS, oriented=False), open_adapter("nnunet", tmp_path / "nn")))


def test_wrong_shape_unmapped_target_and_missing_dataset_json_fail_per_item(tmp_path):
    save_nifti(case_labels(), tmp_path / "nn" / "case1.nii.gz")
    save_nifti(case_labels()[:11], tmp_path / "nn" / "case2.nii.gz")
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    items = items_for("case1", ["liver", "liver_lesion"]) + items_for("case2", ["spleen"])
    rows = run(items, open_adapter("nnunet", tmp_path / "nn"))
    assert_perfect({k: v for k, v in rows.items() if k.startswith("case1.liver.")})
    lesion = [r["error"] for k, r in rows.items() if k.startswith("case1.liver_lesion")]
    assert len(lesion) == 2 and all("target 'liver_lesion' has no nnunet class" in e for e in lesion)
    shape = [r["error"] for k, r in rows.items() if k.startswith("case2")]
    assert len(shape) == 2 and all(e.startswith(str(tmp_path / "nn" / "case2.nii.gz")) and "does not fit" in e for e in shape)

    (tmp_path / "nn" / "dataset.json").unlink()
    rows = run(items_for("case1", ["liver"]) + items_for("absent", ["liver"]), open_adapter("nnunet", tmp_path / "nn"))
    assert all("no dataset.json" in rows[k]["error"] for k in rows if k.startswith("case1"))
    assert all(rows[k]["missing"] and not rows[k].get("error") for k in rows if k.startswith("absent"))


def test_a_2d_item_without_a_slice_index_needs_a_2d_output(tmp_path):
    save_nifti(case_labels(), tmp_path / "nn" / "case1.nii.gz")
    save_nifti(case_labels()[:, :, 2:3], tmp_path / "nn" / "p1.nii.gz")  # a one-slice label map: a 2D output
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    cut = items_for("case1", ["liver"])[1]
    uncut = EvalItem("loose", "case1", "liver", "the liver", 2, cut.load)
    single = _picture_item("single", plane_of(case_labels() == IDS["liver"], 2))
    rows = run([uncut, single], open_adapter("nnunet", tmp_path / "nn"))
    assert "does not say which slice it is" in rows["loose"]["error"]
    assert rows["single"]["dice"] == pytest.approx(1.0) and not rows["single"].get("error")


def test_a_union_with_a_class_absent_names_it(tmp_path):
    labels = case_labels()
    save_nifti((labels == IDS["kidney_left"]).astype(np.uint8), tmp_path / "ts" / "case1" / "kidney_left.nii.gz")
    rows = run(items_for("case1", ["kidneys"]), open_adapter("totalsegmentator", tmp_path / "ts"))
    assert all("needs the classes kidney_left + kidney_right" in r["error"] for r in rows.values())


def test_each_case_is_read_once(tmp_path, monkeypatch):
    from medsee_cli.eval.adapters import nnunet

    for case in ("case1", "case2"):
        save_nifti(case_labels(), tmp_path / "nn" / f"{case}.nii.gz")
    write_json(tmp_path / "nn" / "dataset.json", {"labels": {"background": 0, **IDS}})
    reads: list[Path] = []

    def counting(path: Path):
        reads.append(path)
        return real(path)

    real = nnunet.read_label_grid
    monkeypatch.setattr(nnunet, "read_label_grid", counting)
    assert_perfect(run(items_for("case1", TARGETS) + items_for("case2", TARGETS), open_adapter("nnunet", tmp_path / "nn")))
    assert [p.name for p in reads] == ["case1.nii.gz", "case2.nii.gz"]


# --- MedSAM ----------------------------------------------------------------------------------

def test_medsam_case_npz_3d(tmp_path):
    labels = case_labels()
    boxes = {"liver": 1, "spleen": 2, "kidney_left": 3, "kidney_right": 4, "vertebrae_L1": 5, "vertebrae_L2": 6}
    segs = np.zeros(SHAPE, np.uint8)
    for name, value in boxes.items():
        segs[labels == IDS[name]] = value
    (tmp_path / "ms").mkdir()
    np.savez_compressed(tmp_path / "ms" / "case1.npz", segs=segs.transpose(2, 1, 0))  # SimpleITK order [z, y, x]
    write_json(tmp_path / "ms" / "case1.json", boxes)
    assert_perfect(run(items_for("case1", TARGETS), open_adapter("medsam", tmp_path / "ms")))


def _picture_item(item_id: str, mask: np.ndarray) -> EvalItem:
    return EvalItem(item_id, "p1", "liver", "the liver", 2, _loader(np.zeros(mask.shape, np.float32), mask, (1.0, 1.0), None))


def test_medsam_item_npz_2d(tmp_path):
    first, second = np.zeros((9, 7), bool), np.zeros((9, 7), bool)
    first[2:6, 1:4] = True
    second[5:8, 3:7] = True
    (tmp_path / "ms").mkdir()
    np.savez_compressed(tmp_path / "ms" / "img0.npz", segs=first.astype(np.uint8) * 255)
    np.savez_compressed(tmp_path / "ms" / "img1.npz", segs=second[:, :6].astype(np.uint8))  # wrong shape
    np.savez_compressed(tmp_path / "ms" / "img2.npz", imgs=np.zeros((9, 7), np.uint8))     # no segs
    items = [_picture_item("img0", first), _picture_item("img1", second), _picture_item("img2", second),
             _picture_item("img3", second)]
    rows = run(items, open_adapter("medsam", tmp_path / "ms"))
    assert rows["img0"]["dice"] == pytest.approx(1.0) and not rows["img0"].get("error")
    assert "output shape (9, 6) does not fit the item's grid (9, 7)" in rows["img1"]["error"]
    assert "no 'segs' array" in rows["img2"]["error"]
    assert rows["img3"]["missing"] and not rows["img3"].get("error")


def test_medsam_case_npz_without_label_names_fails_per_item(tmp_path):
    (tmp_path / "ms").mkdir()
    np.savez_compressed(tmp_path / "ms" / "case1.npz", segs=case_labels().transpose(2, 1, 0))
    rows = run(items_for("case1", ["liver"]), open_adapter("medsam", tmp_path / "ms"))
    assert all("prompt-box numbers" in r["error"] for r in rows.values())


# --- the registry and the mapping data -------------------------------------------------------

def test_open_adapter(tmp_path):
    assert ADAPTERS == ("medsee", "totalsegmentator", "nnunet", "medsam")
    assert [line.split(":")[0] for line in ADAPTER_DOCS.splitlines()] == list(ADAPTERS)
    assert isinstance(open_adapter("medsee", tmp_path), SavedPredictions)
    assert isinstance(open_adapter("TotalSegmentator", tmp_path), TotalSegmentatorOutput)
    assert isinstance(open_adapter("nnunet", tmp_path), NnUNetOutput)
    assert isinstance(open_adapter("medsam", tmp_path), MedSAMOutput)
    with pytest.raises(UsageError, match="unknown adapter 'monai'"):
        open_adapter("monai", tmp_path)
    with pytest.raises(InputError, match="predictions folder not found"):
        open_adapter("nnunet", tmp_path / "nowhere")
    identity = open_adapter("nnunet", tmp_path).identity()
    assert identity["adapter"] == "nnunet" and identity["files"] == 0


def _leaves(kb, name: str) -> set[str]:
    entry = kb.get(name)
    return set().union(*(_leaves(kb, m) for m in entry.members)) if entry.members else {name}


def test_targets_yaml_gives_the_knowledge_base_unions_in_totalsegmentator_classes():
    kb = load_knowledge()
    total = {e.name for e in kb.entries if e.in_total}  # TotalSegmentator v2 "total" class names
    unions = [e for e in kb.entries if e.kind == "union" and _leaves(kb, e.name) <= total]
    assert len(unions) >= 25
    for entry in unions:
        assert set(classes_for("totalsegmentator", entry.name, total, "kb")) == _leaves(kb, entry.name), entry.name
    assert set(mapping()) == {"shared", *ADAPTERS} - {"medsee"}
