"""DICOM-SEG: valid (dciodvfy), references the source, round-trips voxel-identically."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

from medsee_cli.errors import InputError, OutputExistsError
from medsee_cli.io import Volume, load_volume
from medsee_cli.writers.dicom_read import read_seg_on
from medsee_cli.writers.dicom_seg import write_seg
from medsee_cli.writers.options import WriterOptions
from tests.writers.conftest import blobs, dciodvfy, series_volume, table3
from tests.writers.dicom_series import volume_from_files

# dicom3tools 1.00~20220618 predates the Label Map Segmentation SOP class (DICOM 2024):
# it cannot find the IOD and applies the BINARY rule "segment numbers start at 1" to the
# background segment 0 that the standard defines for LABELMAP. Nothing else is allowed.
LABELMAP_KNOWN = ("Information Object Not found", "SegmentNumber not monotonically increasing")


def _roundtrip(path: Path, volume: Volume) -> np.ndarray:
    labelmap, _ = read_seg_on(path, volume)
    return labelmap


def _check_valid(path: Path, seg_type: str) -> None:
    errors, _ = dciodvfy(path)
    if seg_type == "LABELMAP":
        errors = [e for e in errors if not any(k in e for k in LABELMAP_KNOWN)]
    assert errors == []


@pytest.mark.parametrize("syntax", [None, RLELossless, JPEGLSLossless, JPEG2000Lossless])
@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_seg_round_trip_per_source_transfer_syntax(tmp_path: Path, syntax: str | None, seg_type: str) -> None:
    volume = series_volume(tmp_path / "ct", transfer_syntax=syntax)
    assert volume.refs.transfer_syntax_uid == (syntax or "1.2.840.10008.1.2.1")
    lm = blobs(volume.spatial_shape)
    out = write_seg(volume, lm, table3(), tmp_path / "seg.dcm", WriterOptions(seg_type=seg_type))
    _check_valid(out, seg_type)
    assert np.array_equal(_roundtrip(out, volume), lm)
    ds = pydicom.dcmread(out)
    expected_syntax = RLELossless if seg_type == "LABELMAP" else "1.2.840.10008.1.2.1"
    assert ds.file_meta.TransferSyntaxUID == expected_syntax
    assert ds.FrameOfReferenceUID == volume.refs.frame_of_reference_uid
    referenced = {i.ReferencedSOPInstanceUID for s in ds.ReferencedSeriesSequence for i in s.ReferencedInstanceSequence}
    assert referenced == {s.sop_instance_uid for s in volume.refs.slices}
    seg = hd.seg.segread(out)
    assert seg.segment_numbers == [1, 2, 3]  # the empty kidney is described, with no frames
    kidney = seg.get_segment_description(3)
    assert kidney.segmented_property_type.value == "64033007"
    assert kidney.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "7771000"
    assert kidney.algorithm_identification[0].AlgorithmName == "medsee"
    spleen = seg.get_segment_description(2)
    rgb = hd.color.CIELabColor.from_dicom_value(tuple(spleen.RecommendedDisplayCIELabValue)).to_rgb()
    assert np.allclose(rgb, (10, 200, 30), atol=2)


def test_seg_with_non_consecutive_label_values(tmp_path: Path, ct_series: Volume) -> None:
    table = table3()
    from dataclasses import replace

    from medsee_cli.writers.labels import LabelTable

    table = LabelTable(tuple(replace(label, value=v) for label, v in zip(table, (4, 9, 30))))
    lm = blobs(ct_series.spatial_shape)
    lm = np.where(lm == 1, 4, np.where(lm == 2, 9, 0)).astype(np.uint8)
    out = write_seg(ct_series, lm, table, tmp_path / "seg.dcm", WriterOptions())
    _check_valid(out, "BINARY")
    back, labels = read_seg_on(out, ct_series)
    assert [label.name for label in labels] == ["liver", "spleen", "kidney"]
    assert np.array_equal(back, blobs(ct_series.spatial_shape))  # segment numbers 1..3


def test_seg_never_overwrites_silently_and_needs_codes(tmp_path: Path, ct_series: Volume) -> None:
    lm = blobs(ct_series.spatial_shape)
    target = tmp_path / "seg.dcm"
    target.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        write_seg(ct_series, lm, table3(), target, WriterOptions())
    assert target.read_bytes() == b"keep"
    write_seg(ct_series, lm, table3(), target, WriterOptions(overwrite=True))
    assert pydicom.dcmread(target).Modality == "SEG"
    from medsee_cli.writers.labels import LabelTable

    with pytest.raises(InputError, match="liver, spleen: no SNOMED CT"):
        write_seg(ct_series, lm, LabelTable.from_names({1: "liver", 2: "spleen"}), tmp_path / "x.dcm", WriterOptions())
    assert not (tmp_path / "x.dcm").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_nifti_source_without_dicom_is_a_clear_error(tmp_path: Path) -> None:
    volume = Volume(dataobj=np.zeros((4, 4, 4), np.int16), affine=np.eye(4), source="scan.nii.gz")
    with pytest.raises(InputError, match="scan.nii.gz: has no DICOM source series"):
        write_seg(volume, np.zeros((4, 4, 4), np.uint8), table3(), tmp_path / "seg.dcm", WriterOptions())


@pytest.mark.parametrize("folder", ["5001_anat-T1w_acq-tfl", "6001_anat-T1w_acq-tfl"])
def test_seg_on_real_compressed_series(tmp_path: Path, shared_data: Path, folder: str) -> None:
    volume = load_volume(shared_data / "dicom/dcm_qa_frag/In" / folder)
    lm = blobs(volume.spatial_shape)
    out = write_seg(volume, lm, table3(), tmp_path / "seg.dcm", WriterOptions())
    _check_valid(out, "BINARY")
    assert np.array_equal(_roundtrip(out, volume), lm)


def test_seg_on_single_ct_image(tmp_path: Path, shared_data: Path) -> None:
    volume = load_volume(shared_data / "dicom/highdicom_test_files/ct_image.dcm")
    lm = np.zeros(volume.spatial_shape, np.uint8)
    lm[30:60, 40:90, 0] = 1
    out = write_seg(volume, lm, table3(), tmp_path / "seg.dcm", WriterOptions(seg_type="LABELMAP"))
    _check_valid(out, "LABELMAP")
    assert np.array_equal(_roundtrip(out, volume), lm)


def test_seg_on_enhanced_multiframe_source(tmp_path: Path, shared_data: Path) -> None:
    volume = load_volume(shared_data / "dicom/pydicom_data/eCT_Supplemental.dcm")
    assert sorted(s.frame_number for s in volume.refs.slices) == [1, 2]  # sorted along the normal: 2, 1
    lm = np.zeros(volume.spatial_shape, np.uint8)
    lm[100:300, 50:120, 0], lm[200:260, 300:400, 1] = 1, 2
    for seg_type in ("BINARY", "LABELMAP"):
        out = write_seg(volume, lm, table3(), tmp_path / f"seg_{seg_type}.dcm", WriterOptions(seg_type=seg_type))
        _check_valid(out, seg_type)
        assert np.array_equal(_roundtrip(out, volume), lm)
        frames = {int(i.ReferencedFrameNumber) for f in pydicom.dcmread(out).PerFrameFunctionalGroupsSequence
                  for d in f.DerivationImageSequence for i in d.SourceImageSequence}
        assert frames == {1, 2}


def test_part_of_a_4d_multiframe_object_is_not_made(tmp_path: Path, shared_data: Path) -> None:
    # medsee's reader splits this object into two 32-frame series; a volume holding part of a
    # multi-frame object (here: one time point of all 64 frames) must be refused, not mis-cited.
    volume = volume_from_files([shared_data / "dicom/dcm_qa_enh/In/Philips/IM_0027_fMAP.dcm"], with_pixels=False)
    assert volume.spatial_shape == (64, 64, 32)  # 64 frames: 32 positions x 2 images
    from medsee_cli.writers.skipped import OutputNotMade

    with pytest.raises(OutputNotMade, match="64 frames for 32 slices"):
        write_seg(volume, blobs(volume.spatial_shape), table3(), tmp_path / "seg.dcm", WriterOptions())


def _attribute_paths(ds: pydicom.Dataset, prefix: str = "") -> set[str]:
    """Every attribute of ``ds`` as a keyword path through its sequences ("A/B/C")."""
    out = set()
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                out |= _attribute_paths(item, f"{prefix}{elem.keyword}/")
        else:
            out.add(prefix + elem.keyword)
    return out


REFERENCE_WORDS = ("Referenced", "Derivation", "Source", "FrameOfReference", "PlanePosition", "DimensionIndex")


@pytest.mark.parametrize("real_seg", ["pydicom_data/liver.dcm", "pydicom_data/liver_nonbyte_aligned_rle.dcm",
                                      "highdicom_test_files/seg_image_ct_binary.dcm"])
def test_our_seg_carries_the_same_kind_of_references_as_a_real_one(tmp_path: Path, shared_data: Path,
                                                                  ct_series: Volume, real_seg: str) -> None:
    """Every referencing attribute path of a real SEG (series -> instances, per-frame derivation
    -> source image with purpose of reference, frame of reference, plane positions) is in ours."""
    from medsee_cli.writers.seg_dataset import read_seg_dataset

    real = read_seg_dataset(shared_data / "dicom" / real_seg)
    ours = pydicom.dcmread(write_seg(ct_series, blobs(ct_series.spatial_shape), table3(),
                                     tmp_path / "seg.dcm", WriterOptions()))
    wanted = {p for p in _attribute_paths(real) if any(w in p for w in REFERENCE_WORDS)}
    assert "ReferencedSeriesSequence/ReferencedInstanceSequence/ReferencedSOPInstanceUID" in wanted
    assert wanted - _attribute_paths(ours) == set()
    cited = {i.ReferencedSOPInstanceUID for s in ours.ReferencedSeriesSequence for i in s.ReferencedInstanceSequence}
    assert cited == {s.sop_instance_uid for s in ct_series.refs.slices}
    for frame in ours.PerFrameFunctionalGroupsSequence:  # every frame cites a cited source image
        (source_item,) = frame.DerivationImageSequence[0].SourceImageSequence
        assert source_item.ReferencedSOPInstanceUID in cited
        assert source_item.PurposeOfReferenceCodeSequence[0].CodeValue == "121322"
