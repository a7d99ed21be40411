"""`ask`, `segment` and `export` on real series that lack attributes, and their command contract.

- A DICOM-SEG that cannot honestly be made costs nothing else: one warning line
  (``medsee: warning: ITEM: no DICOM-SEG: REASON``), the answer, every other file, ``--json``
  ``outputs.dicom_seg: null`` plus ``warnings``, provenance ``warnings``, exit 6.
- ``--out`` is checked before any work (probe 6): a file is a usage error (2), an existing
  result is exit 3, both before the model is loaded; ``ask`` without ``--out`` writes nothing;
  ``export`` of a file without ``--out`` writes nothing beside its input.
- One bad case never ends a ``segment`` batch (probe 10): a truncated gzip and a 4D NIfTI each
  get one line, leave no folder, and the batch exits 1.
- A ``--target`` the model was not trained on is refused before any work (exit 2), the rule
  ``ask`` uses to skip such targets.

The model runs use a small random-head checkpoint on the real LiteMedSAM base with a presence
gate that accepts every slice (so there is a mask to write) on 6-slice crops of real series.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.io import load_volume, write_nifti
from medsee_cli.io.volume import Volume
from tests.outputs.conftest import check_seg, dciodvfy_errors, labelmap_for, make, provenance

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
RESULT_FILES = ("mask.nii.gz", "labels.json", "boxes.json", "preview.png", "provenance.json")
SERIES_REASON = "no DICOM-SEG: the source series has no SeriesInstanceUID"


def medsee(*args: str, cwd: Path | None = None, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does; ``timeout`` only guards against a hang (a loaded CI machine runs
    these model calls many times slower than an idle one)."""
    return subprocess.run([sys.executable, "-m", "medsee_cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_line(stderr: str, kind: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"medsee: {kind}:")]


@pytest.fixture(scope="module")
def eager_model(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A random-head grounding model whose presence gate accepts every slice."""
    import torch

    from medsee_cli.model.grounding import GroundingConfig, GroundingModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("eager-grounding")
    GroundingModel.from_config(GroundingConfig(dim=16, stem_channels=8, presence_threshold=-30.0)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def label_map(tmp_path_factory, shared_data: Path) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """(label-map NIfTI with its labels sidecar, folder of quirk variants) on the GE crop's grid."""
    root = tmp_path_factory.mktemp("export")
    volume = load_volume(make("clean", "ge_native", root / "clean", shared_data))
    path = root / "lm" / "labels.nii.gz"
    path.parent.mkdir()
    write_nifti(Volume(labelmap_for(volume.spatial_shape), volume.affine), path)
    (root / "lm" / "labels.labels.json").write_text(json.dumps({"1": "liver", "2": "spleen"}))
    return path, root


# ------------------------------------------------------------------------------ export sweep

EXPORTED = ["sop_class_blank", "sop_class_hashed", "charset_blank", "sop_uid_blank", "patient_blank", "name_utf8",
            "name_latin1", "name_iso2022_jp", "study_uid_blank", "series_uid_blank", "frame_of_reference_blank"]
NOT_EXPORTED = {"study_uid_blank": "no DICOM-SEG: the source series has no StudyInstanceUID",
                "series_uid_blank": SERIES_REASON,
                "frame_of_reference_blank": "no DICOM-SEG: the source series has no FrameOfReferenceUID"}


@pytest.mark.parametrize("name", EXPORTED)
def test_export_dicom_seg_of_a_series_that_lacks_attributes(name: str, label_map, shared_data: Path,  # type: ignore[no-untyped-def]
                                                            orthanc) -> None:
    lm_path, root = label_map
    series = make(name, "ge_native", root / name, shared_data)
    out = root / f"{name}.dcm"
    run = CliRunner().invoke(app, ["export", str(lm_path), "--format", "dicom-seg", "--source", str(series),
                                   "--out", str(out)])
    if name in NOT_EXPORTED:
        assert run.exit_code == 6, run.output
        assert one_line(run.stderr, "warning") == [f"medsee: warning: {series}: {NOT_EXPORTED[name]}"]
        assert one_line(run.stderr, "error") == [] and not out.exists()
        assert [p for p in out.parent.iterdir() if p.name.endswith(".partial")] == []
    else:
        assert run.exit_code == 0, run.output
        assert run.stdout.strip() == f"dicom-seg\t{out}" and run.stderr == ""  # no highdicom chatter
        volume = load_volume(series)
        check_seg(out, volume, np.asarray(nib.load(lm_path).dataobj))
        orthanc.store([out])  # a real PACS takes it
        ds = pydicom.dcmread(out, stop_before_pixels=True)
        assert orthanc.has_instance(ds.StudyInstanceUID, ds.SOPInstanceUID)


def test_export_rtstruct_of_a_series_with_blank_sop_class_and_charset(label_map, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    lm_path, root = label_map
    for name in ("sop_class_blank", "charset_blank", "name_iso2022_jp"):
        series = make(name, "ge_native", root / f"rt-{name}", shared_data)
        out = root / f"rt-{name}.dcm"
        run = CliRunner().invoke(app, ["export", str(lm_path), "--format", "rtstruct", "--source", str(series),
                                       "--out", str(out)])
        assert run.exit_code == 0, run.output
        assert dciodvfy_errors(out) == []
        ds = pydicom.dcmread(out)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.3" and ds.StudyInstanceUID


# ------------------------------------------------------------------------------ ask / segment


def test_ask_on_a_series_without_series_uid_still_answers_and_writes_the_rest(eager_model: Path, tmp_path: Path,
                                                                              shared_data: Path) -> None:
    series = make("series_uid_blank", "siemens_jpegll", tmp_path, shared_data)
    out = tmp_path / "answer"
    run = medsee("ask", str(series), "where is the liver?", "--model", str(eager_model), "--device", "cpu",
                 "--encoder", "none", "--out", str(out), "--json")
    assert run.returncode == 6, run.stderr
    assert one_line(run.stderr, "warning") == [f"medsee: warning: {series}: {SERIES_REASON}"]
    assert one_line(run.stderr, "error") == []
    doc = json.loads(run.stdout)
    assert doc["findings"] and doc["findings"][0]["present"] and "Liver" in doc["answer"]
    assert doc["outputs"]["dicom_seg"] is None and doc["outputs"]["mask"] == str(out / "mask.nii.gz")
    assert doc["warnings"] == [SERIES_REASON]
    for name in RESULT_FILES:
        assert (out / name).is_file(), name
    assert not (out / "seg.dcm").exists()
    prov = provenance(out)
    assert prov["warnings"] == [SERIES_REASON] and "seg.dcm" not in prov["files"]
    text = medsee("ask", str(series), "where is the liver?", "--model", str(eager_model), "--device", "cpu",
                  "--encoder", "none", "--out", str(tmp_path / "text"))
    assert text.returncode == 6 and "Liver: found" in text.stdout and "Files: mask" in text.stdout


def test_ask_on_a_series_with_blank_sop_class_writes_a_valid_seg(eager_model: Path, tmp_path: Path,
                                                                 shared_data: Path) -> None:
    series = make("sop_class_blank", "siemens_jpegll", tmp_path, shared_data)
    out = tmp_path / "answer"
    run = medsee("ask", str(series), "where is the liver?", "--model", str(eager_model), "--device", "cpu",
                 "--encoder", "none", "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["outputs"]["dicom_seg"] == str(out / "seg.dcm") and doc["warnings"] == []
    mask = np.asarray(nib.load(out / "mask.nii.gz").dataobj)
    check_seg(out / "seg.dcm", load_volume(series), mask)


def test_segment_batch_warns_per_case_and_exits_6(eager_model: Path, tmp_path: Path, shared_data: Path) -> None:
    blank = make("series_uid_blank", "siemens_jpegll", tmp_path / "in", shared_data)
    charset = make("charset_blank", "siemens_jpegll", tmp_path / "in", shared_data)
    out = tmp_path / "out"
    run = medsee("segment", str(blank), str(charset), "--target", "liver", "--out", str(out), "--model",
                 str(eager_model), "--device", "cpu", "--json")
    assert run.returncode == 6, run.stderr
    assert one_line(run.stderr, "warning") == [f"medsee: warning: {blank}: {SERIES_REASON}"]
    doc = json.loads(run.stdout)
    assert doc["warnings"] == [f"{blank}: {SERIES_REASON}"]
    first, second = doc["cases"]
    assert first["ok"] and first["outputs"]["dicom_seg"] is None and first["warnings"] == [SERIES_REASON]
    assert second["ok"] and second["warnings"] == [] and second["outputs"]["dicom_seg"]
    for name in RESULT_FILES:
        assert (out / first["case"] / name).is_file(), name
    assert provenance(out / first["case"])["warnings"] == [SERIES_REASON]
    assert dciodvfy_errors(Path(second["outputs"]["dicom_seg"])) == []


def test_segment_batch_goes_on_after_a_truncated_gzip_and_a_4d_image(eager_model: Path, tmp_path: Path,
                                                                     shared_data: Path) -> None:
    """Probe 10: each bad case is one line and no folder; the good case is complete; exit 1."""
    data = (SAMPLE / "abdomen_normal.nii.gz").read_bytes()
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(data[: len(data) // 2])
    real = nib.load(shared_data / "mr/patient_mr/mr.nii.gz")
    four_d = tmp_path / "fourd.nii.gz"
    stack = np.stack([np.asarray(real.dataobj)[:, :, :2]] * 2, axis=-1)
    nib.save(nib.Nifti1Image(stack, real.affine), four_d)
    good = make("clean", "siemens_jpegll", tmp_path / "in", shared_data)
    out = tmp_path / "out"
    run = medsee("segment", str(broken), str(four_d), str(good), "--target", "liver", "--out", str(out),
                 "--model", str(eager_model), "--device", "cpu")
    assert run.returncode == 1, run.stderr
    errors = one_line(run.stderr, "error")
    assert len(errors) == 2 and "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert errors[0].startswith(f"medsee: error: {broken}: ")
    assert errors[1].startswith(f"medsee: error: {four_d}: is 4D (2 volumes")
    cases = sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and p.name != "run.json")
    assert cases == [good.name]  # no folder, partial or not, for bad cases
    assert all((out / good.name / name).is_file() for name in (*RESULT_FILES, "seg.dcm"))


# ------------------------------------------------------------------------------ --out contract


def test_out_naming_a_file_is_a_usage_error_before_the_model_loads(tmp_path: Path) -> None:
    """Probe 6: with a model that does not exist, the --out check must come first."""
    image = SAMPLE / "abdomen_normal.nii.gz"
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    cases = [["ask", str(image), "where is the liver?", "--encoder", "none", "--model", "/nonexistent",
              "--out", str(taken)],
             ["segment", str(image), "--target", "liver", "--model", "/nonexistent", "--out", str(taken)],
             ["export", str(SAMPLE / "abdomen_normal_labels.nii.gz"), "--format", "png",
              "--out", str(taken / "preview.png")]]
    for args in cases:
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 2, (args[0], run.output)
        lines = one_line(run.stderr, "error")
        assert len(lines) == 1 and lines[0].startswith("medsee: error: --out: ") and str(taken) in lines[0], args[0]
    assert taken.read_text() == "mine"


def test_ask_refuses_an_existing_result_before_the_model_loads(tmp_path: Path) -> None:
    out = tmp_path / "answer"
    out.mkdir()
    (out / "mask.nii.gz").write_bytes(b"earlier answer")
    run = CliRunner().invoke(app, ["ask", str(SAMPLE / "abdomen_normal.nii.gz"), "where is the liver?",
                                   "--encoder", "none", "--model", "/nonexistent", "--out", str(out)])
    assert run.exit_code == 3, run.output
    assert one_line(run.stderr, "error") == [f"medsee: error: {out / 'mask.nii.gz'}: exists already "
                                             "(use --overwrite to replace it)"]


def test_ask_without_out_writes_nothing(eager_model: Path, tmp_path: Path) -> None:
    source = load_volume(SAMPLE / "abdomen_jaundice.nii.gz")
    affine = source.affine.copy()
    affine[:3, 3] = source.affine[:3, :3] @ np.array([0, 0, 29]) + source.affine[:3, 3]
    image = tmp_path / "scan" / "tiny.nii.gz"
    image.parent.mkdir()
    write_nifti(Volume(np.asarray(source.dataobj[:, :, 29:31]), affine, modality="CT"), image)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    run = medsee("ask", str(image), "where is the liver?", "--model", str(eager_model), "--device", "cpu",
                 "--encoder", "none", cwd=cwd)
    assert run.returncode == 0, run.stderr
    assert "Liver: found" in run.stdout and "Files: none written (give --out FOLDER" in run.stdout
    assert list(cwd.iterdir()) == [] and sorted(p.name for p in image.parent.iterdir()) == ["tiny.nii.gz"]


def test_export_of_a_file_without_out_is_a_usage_error(tmp_path: Path) -> None:
    labels = tmp_path / "lm.nii.gz"
    labels.write_bytes((SAMPLE / "abdomen_normal_labels.nii.gz").read_bytes())
    run = CliRunner().invoke(app, ["export", str(labels), "--format", "png"])
    assert run.exit_code == 2, run.output
    assert one_line(run.stderr, "error") == [f"medsee: error: --out: give an output file or folder ({labels} is "
                                             "a file, not a result folder)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm.nii.gz"]


def test_unknown_export_format_is_a_usage_error(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["export", str(tmp_path), "--format", "stl", "--out", str(tmp_path / "x")])
    assert run.exit_code == 2 and one_line(run.stderr, "error")[0].startswith("medsee: error: --format: unknown")


# ------------------------------------------------------------------------------ one target rule


def test_segment_refuses_a_target_the_shipped_model_was_not_trained_on(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["segment", str(SAMPLE / "abdomen_normal.nii.gz"), "--target", "heart",
                                   "--out", str(out), "--device", "cpu"])
    assert run.exit_code == 2, run.output
    (line,) = one_line(run.stderr, "error")
    assert line.startswith("medsee: error: --target heart: medsee-grounding-v1 was not trained to outline it "
                           "(it can outline: liver, spleen,")
    assert not out.exists()


def test_ask_skips_the_same_targets_with_the_same_rule() -> None:
    from medsee_cli.services.targets import segmentable_targets

    keep, skipped = segmentable_targets(["liver", "heart"], ("liver", "spleen"))
    assert keep == ["liver"] and skipped == {"heart": "this model was not trained to outline it"}
