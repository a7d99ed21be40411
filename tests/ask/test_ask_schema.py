"""`services.ask` with a random-head model: the medsee.ask/1 document and the files it names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medsee_cli.io import load_volume
from medsee_cli.services.ask import AskOptions, ask
from tests.ask.conftest import EVERYTHING

FINDING_KEYS = {"target", "present", "voxels", "volume_ml", "box_voxel", "box_mm", "slices", "measurements", "concerns",
                "dropped"}
DOC_KEYS = {"schema", "question", "answer", "abstained", "targets", "excluded", "backend", "skipped", "findings",
            "slice_numbers", "outputs", "warnings", "scan", "engine"}
MEASUREMENT_KEYS = {"target", "size_mm", "centroid_mm", "side", "score", "confidence", "pieces", "intensity"}


def test_ask_document_and_outputs(tiny_model_dir, tiny_ct, tmp_path):
    out = tmp_path / "result"
    result = ask(tiny_ct, "what is causing his jaundice?",
                 AskOptions(out=out, model=str(tiny_model_dir), engine=EVERYTHING, max_targets=2, encoder="none"))
    doc = json.loads(json.dumps(result.to_dict()))
    assert set(doc) == DOC_KEYS
    assert doc["warnings"] == [] and doc["abstained"] is False and doc["backend"] == "lexical"
    assert doc["skipped"] and all(set(s) == {"name", "reason"} for s in doc["skipped"])
    assert doc["slice_numbers"] == {"scheme": "1-based", "note": None, "table_position": True}
    assert doc["engine"]["slices_total"] == 2
    assert doc["schema"] == "medsee.ask/1" and doc["question"] == "what is causing his jaundice?"
    assert doc["targets"] and set(doc["targets"][0]) == {"name", "code", "score", "rationale"}
    assert 1 <= len(doc["findings"]) <= 2
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["present"]  # presence threshold 0: the random head accepts every slice
        assert finding["voxels"] > 0 and finding["volume_ml"] > 0
        assert set(finding["box_voxel"]) == {"min", "max"} and len(finding["box_mm"]["min"]) == 3
        assert {s["index"] for s in finding["slices"]} <= {0, 1}
        assert set(finding["slices"][0]) == {"index", "number", "table_mm", "box", "score", "drawn"}
        assert [s["number"] for s in finding["slices"]] == [s["index"] + 1 for s in finding["slices"]]
        assert set(finding["measurements"]) == MEASUREMENT_KEYS and finding["measurements"]["target"] == finding["target"]
        assert finding["measurements"]["confidence"] is None  # a model nobody measured on real CT
    assert set(doc["outputs"]) == {"mask", "boxes", "preview", "dicom_seg"} and doc["outputs"]["dicom_seg"] is None
    source, mask = load_volume(tiny_ct), load_volume(doc["outputs"]["mask"])
    assert mask.spatial_shape == source.spatial_shape and np.allclose(mask.affine, source.affine)
    labels = np.asarray(mask.dataobj)
    assert int((labels == 1).sum()) == doc["findings"][0]["voxels"] or len(doc["findings"]) > 1
    boxes = json.loads((out / "boxes.json").read_text())
    assert [t["name"] for t in boxes["targets"]] == [f["target"] for f in doc["findings"]]
    assert (out / "preview.png").stat().st_size > 0
    assert "not a diagnosis" in result.answer
    assert result.findings[0].target in result.answer.lower().replace(" ", "_") or "found" in result.answer


def test_abstention_runs_no_segmentation(tiny_ct):
    result = ask(tiny_ct, "what is the weather like on mars tomorrow?", AskOptions(model="/nonexistent", encoder="none"))
    doc = result.to_dict()
    assert doc["findings"] == [] and all(v is None for v in doc["outputs"].values())
    assert result.abstained and doc["abstained"] is True and "No segmentation was run" in doc["answer"]
    assert set(doc) == DOC_KEYS and doc["skipped"] == [] and doc["engine"] == {}


def test_missing_image_is_an_input_error(tmp_path):
    from medsee_cli.errors import InputError

    with pytest.raises(InputError):
        ask(tmp_path / "nope.nii.gz", "where is the liver?")


def test_label_map_keeps_a_small_finding_inside_a_large_one_visible(tmp_path):
    from medsee_cli.engine.findings import Finding
    from medsee_cli.io.volume import Volume
    from medsee_cli.measure import RegionMask, measure
    from medsee_cli.services.results import write_findings

    volume = Volume(np.zeros((20, 20, 6), np.int16), np.eye(4), modality="CT")
    organ = RegionMask((2, 2, 0), np.ones((15, 15, 6), bool))
    lesion = RegionMask((6, 6, 2), np.ones((3, 3, 2), bool))
    findings = [Finding("liver", True, score=0.9, measurement=measure(volume, organ, "CT"), region=organ),
                Finding("liver_lesion", True, score=0.8, measurement=measure(volume, lesion, "CT"), region=lesion),
                Finding("gallbladder", False)]
    outputs, warnings = write_findings(volume, findings, tmp_path / "r", False, "test-model", "test")
    assert warnings == []
    labels = np.asarray(load_volume(outputs["mask"]).dataobj)
    assert int((labels == 2).sum()) == 18 and int((labels == 1).sum()) == 15 * 15 * 6 - 18
    table = json.loads((tmp_path / "r" / "labels.json").read_text())
    assert [label["name"] for label in table["labels"]] == ["liver", "liver_lesion", "gallbladder"]


def test_the_answer_and_boxes_json_carry_one_measurement_of_a_nifti_ct(tiny_model_dir, tiny_ct, tmp_path):
    """A CT stored as NIfTI (no modality in the file): one modality decision per run, so the
    answer's HU and boxes.json agree, and both serialise the same `measure` (boxes, mL, side)."""
    out = tmp_path / "result"
    result = ask(tiny_ct, "where is the liver?",
                 AskOptions(out=out, model=str(tiny_model_dir), engine=EVERYTHING, max_targets=1, encoder="none"))
    assert load_volume(tiny_ct).modality == "OT" and result.stats["modality"] == "CT"
    finding = result.findings[0]
    record = json.loads((out / "boxes.json").read_text())["targets"][0]
    assert finding.present and finding.intensity["unit"] == "HU" and record["intensity"] == finding.intensity
    for key in ("volume_ml", "box_voxel", "box_mm", "size_mm", "centroid_mm", "side"):
        assert record[key] == getattr(finding, key), key
    assert record["voxel_count"] == finding.voxels
    assert [s["k"] for s in record["slices"]] == [s["index"] for s in finding.slices]
    assert [s["box"] for s in record["slices"]] == [s["box"] for s in finding.slices]
    assert [(s["number"], s["table_mm"]) for s in record["slices"]] == [(s["number"], s["table_mm"])
                                                                        for s in finding.slices]


def test_a_question_that_names_a_structure_segments_that_structure(tiny_model_dir, tiny_ct):
    """'where is the liver?' outlines the liver only; related targets are named, not run, unless
    --related asks for them. A question that only points (a symptom) still gets the best three."""
    options = AskOptions(model=str(tiny_model_dir), engine=EVERYTHING)  # with the encoder: related hypotheses too
    named = ask(tiny_ct, "where is the liver?", options)
    assert [f.target for f in named.findings] == ["liver"]
    assert named.skipped and all("the question names liver" in why for why in named.skipped.values())
    more = ask(tiny_ct, "where is the liver?", AskOptions(model=str(tiny_model_dir), engine=EVERYTHING, related=1))
    assert [f.target for f in more.findings][:1] == ["liver"] and len(more.findings) == 2
    pointed = ask(tiny_ct, "what is causing his jaundice?", options)
    assert len(pointed.findings) == 3 and "liver" not in [f.target for f in pointed.findings][:1]


def test_thin_slices_are_read_every_third_and_the_answer_says_so(tiny_model_dir, tmp_path):
    # eight slices of the phantom declared 1 mm apart: read 0, 3, 6 and the last; the others are drawn between
    from medsee_cli.io import write_nifti
    from medsee_cli.io.volume import Volume
    from tests.ask.conftest import SAMPLE

    source = load_volume(SAMPLE / "abdomen_jaundice.nii.gz")
    affine = source.affine.copy()
    affine[:3, 2] *= 1.0 / np.linalg.norm(affine[:3, 2])
    thin = tmp_path / "thin.nii.gz"
    write_nifti(Volume(np.asarray(source.dataobj[:, :, 26:34]), affine, modality="CT"), thin)
    result = ask(thin, "where is the liver?", AskOptions(model=str(tiny_model_dir), engine=EVERYTHING, encoder="none"))
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["engine"]["slice_step"] == 3 and doc["engine"]["slices_run"] == 4 and doc["engine"]["slices_total"] == 8
    assert "Outlined on every third slice (3.0 mm apart); the slices between were drawn" in result.answer
    found = doc["findings"][0]
    assert found["present"] and {s["index"] for s in found["slices"]} == set(range(8))  # read and drawn alike


def test_a_measured_model_gives_each_ct_finding_its_confidence_in_every_output(tiny_model_dir, tiny_ct, tmp_path):
    import shutil
    from dataclasses import replace

    from medsee_cli.model.grounding.confidence import ConfidenceMap
    from medsee_cli.model.grounding.config import GroundingConfig

    measured_model = tmp_path / "measured"
    shutil.copytree(tiny_model_dir, measured_model)
    calibration = ConfidenceMap(slope=0.5, intercept=-1.0, findings=10, right=4, measured_on="test")
    replace(GroundingConfig.load(measured_model), confidence_map=calibration.to_dict()).save(measured_model)
    out = tmp_path / "result"
    result = ask(tiny_ct, "what is causing his jaundice?",
                 AskOptions(out=out, model=str(measured_model), engine=EVERYTHING, max_targets=2, encoder="none"))
    doc = json.loads(json.dumps(result.to_dict()))
    said = {f["target"]: f["measurements"]["confidence"] for f in doc["findings"]}
    assert said and all(v == round(calibration(f["measurements"]["score"]), 3)
                        for f in doc["findings"] for v in [said[f["target"]]])
    labels = json.loads((out / "labels.json").read_text())["labels"]
    boxes = json.loads((out / "boxes.json").read_text())["targets"]
    assert {t["name"]: t["confidence"] for t in boxes} == said
    assert {entry["name"]: entry["confidence"] for entry in labels} == said
