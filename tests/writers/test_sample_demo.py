"""The demo's path: the sample jaundice CT series (JPEG-LS, 64 slices) and its label map become a
DICOM-SEG through `medsee export`, valid for dciodvfy, coded with CID 7150 categories."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.io import load_volume
from medsee_cli.writers.dicom_read import read_seg_on
from medsee_cli.reasoning.codes import Code
from medsee_cli.reasoning.knowledge import Entry
from medsee_cli.writers.knowledge_codes import dicom_category, fill_codes
from medsee_cli.writers.labels import Label, LabelTable, parse_label_table
from tests.writers.conftest import dciodvfy

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
CID7150 = {(c.value, c.meaning) for c in codes.cid7150.concepts.values()}


def test_demo_seg_from_the_sample_series_is_valid_and_exact(tmp_path: Path) -> None:
    series = SAMPLE / "abdomen_jaundice_dicom"
    out = tmp_path / "seg.dcm"
    run = CliRunner().invoke(app, ["export", str(SAMPLE / "abdomen_jaundice_labels.nii.gz"), "--format", "dicom-seg",
                                   "--source", str(series), "--out", str(out)])
    assert run.exit_code == 0, run.output
    errors, _ = dciodvfy(out)
    assert errors == []

    source = load_volume(series)
    assert source.refs.transfer_syntax_uid == "1.2.840.10008.1.2.4.80" and source.spatial_shape[2] == 64
    expected = np.asarray(nib.load(SAMPLE / "abdomen_jaundice_labels.nii.gz").dataobj)
    back, table = read_seg_on(out, source)
    assert np.array_equal(back, expected)  # segment numbers 1..12 are the label ids 1..12
    names = json.loads((SAMPLE / "labels.json").read_text())
    assert [label.name for label in table] == [names[str(v)] for v in range(1, 13)]

    ds = pydicom.dcmread(out)
    assert ds.FrameOfReferenceUID == source.refs.frame_of_reference_uid
    assert ds.StudyInstanceUID == source.refs.study_instance_uid
    (ref_series,) = ds.ReferencedSeriesSequence
    assert ref_series.SeriesInstanceUID == source.refs.series_instance_uid
    cited = {i.ReferencedSOPInstanceUID for i in ref_series.ReferencedInstanceSequence}
    assert cited == {s.sop_instance_uid for s in source.refs.slices}
    for segment in ds.SegmentSequence:
        category = segment.SegmentedPropertyCategoryCodeSequence[0]
        assert (category.CodeValue, category.CodeMeaning) in CID7150, segment.SegmentLabel
    by_label = {str(s.SegmentLabel): s for s in ds.SegmentSequence}
    assert by_label["liver_lesion"].SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    assert by_label["liver"].SegmentedPropertyCategoryCodeSequence[0].CodeValue == "91723000"


def test_knowledge_base_category_codes_become_cid7150_codes() -> None:
    """The knowledge base codes 'Anatomical Structure' as SCT 123037004 (SNOMED CT 'Body
    structure'); DICOM CID 7150 lists 91723000. SEG categories must be the CID 7150 ones."""
    assert dicom_category(Code("123037004", "Anatomical Structure")) == Code("91723000", "Anatomical Structure")
    assert dicom_category(Code("49755003", "Morphologically Altered Structure")) == \
        Code("49755003", "Morphologically Abnormal Structure")
    assert dicom_category(Code("85756007", "Tissue")) == Code("85756007", "Tissue")
    assert dicom_category(Code("12345", "Other")) == Code("12345", "Other")  # unknown codes stay
    assert dicom_category(Code("123037004", "x", "99LOCAL")) == Code("123037004", "x", "99LOCAL")

    older = Entry(name="liver", kind="structure", description="the liver", segmentable=True,
                  property_type=Code("10200004", "Liver"), category=Code("123037004", "Anatomical Structure"))
    filled = fill_codes(LabelTable((Label(1, "liver"),)), lambda name: older)
    assert filled.get(1).category == Code("91723000", "Anatomical Structure")
    every = fill_codes(parse_label_table(json.loads((SAMPLE / "labels.json").read_text())))
    assert all((label.category.code, label.category.meaning) in CID7150 for label in every)
