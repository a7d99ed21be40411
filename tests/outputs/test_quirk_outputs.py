"""Every quirk variant of the real series that medsee reads gets its outputs, or one honest reason.

For each (variant, source) of the quirk corpus expected to read, a label map on the source grid
goes through `write_result` with every format (the path `ask`, `segment` and `export` take).
Either the DICOM-SEG and RTSTRUCT are written, pass dciodvfy with 0 errors, read back with
highdicom with the right study / frame-of-reference / SOP instance references and are stored by
a real Orthanc; or (no Study/Series/SOP Instance UID or FrameOfReferenceUID anywhere, duplicated
SOP Instance UIDs) both are skipped with the reason, and every other file and provenance.json
(with its warnings) is written. The source files are never changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pydicom
import pytest

from medsee_cli.io import load_volume
from medsee_cli.writers import FILES, WriterOptions, write_result
from tests.outputs.conftest import (check_rtstruct, check_seg, corpus, expected_reason, labelmap_for,
                                    liver_spleen, make, provenance)

ALL_FORMATS = ("nifti", "json", "png", "dicom-seg", "rtstruct")
CASES = corpus().reading_cases()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("name", "source"), CASES, ids=[f"{s}-{n}" for n, s in CASES])
def test_outputs_of_a_quirky_series(name: str, source: str, tmp_path: Path, shared_data: Path, orthanc) -> None:  # type: ignore[no-untyped-def]
    series = make(name, source, tmp_path / "in", shared_data)
    before = _digest(series)
    volume = load_volume(series)
    lm = labelmap_for(volume.spatial_shape)
    out = tmp_path / "result"
    result = write_result(volume, lm, liver_spleen(), out, WriterOptions(formats=ALL_FORMATS))
    for fmt in ("labels", "nifti", "json", "png", "provenance"):
        assert result.files[fmt].is_file(), fmt
    prov = provenance(out)
    reason = expected_reason(name, source)
    if reason is not None:
        assert set(result.skipped) == {"dicom-seg", "rtstruct"}, result.skipped
        assert all(r.startswith(reason) for r in result.skipped.values()), result.skipped
        assert not (out / FILES["dicom-seg"]).exists() and not (out / FILES["rtstruct"]).exists()
        assert prov["warnings"] == result.warnings and prov["warnings"][0].startswith("no DICOM-SEG: ")
        assert set(prov["not_written"]) == {"dicom-seg", "rtstruct"}
    else:
        assert result.skipped == {}, result.skipped
        check_seg(result.files["dicom-seg"], volume, lm)
        check_rtstruct(result.files["rtstruct"], volume)
        assert prov["warnings"] == [] and {FILES["dicom-seg"], FILES["rtstruct"]} <= set(prov["files"])
        orthanc.store([result.files["dicom-seg"], result.files["rtstruct"]])
        for fmt in ("dicom-seg", "rtstruct"):
            ds = pydicom.dcmread(result.files[fmt], stop_before_pixels=True)
            assert orthanc.has_instance(ds.StudyInstanceUID, ds.SOPInstanceUID), fmt
    assert _digest(series) == before  # inputs are never modified
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".partial")] == []


def test_clean_series_and_its_seg_are_one_study_in_orthanc(tmp_path: Path, shared_data: Path, orthanc) -> None:  # type: ignore[no-untyped-def]
    """The source series itself goes to Orthanc too, and the SEG lands in its study."""
    series = make("sop_class_blank", "ge_native", tmp_path / "in", shared_data)
    clean = make("clean", "ge_native", tmp_path / "clean", shared_data)
    volume = load_volume(series)
    lm = labelmap_for(volume.spatial_shape)
    result = write_result(volume, lm, liver_spleen(), tmp_path / "r", WriterOptions(formats=("dicom-seg",)))
    seg = pydicom.dcmread(result.files["dicom-seg"], stop_before_pixels=True)
    orthanc.store(sorted(clean.iterdir()))
    orthanc.store([result.files["dicom-seg"]])
    studies = orthanc.client.search_for_studies(search_filters={"StudyInstanceUID": seg.StudyInstanceUID})
    assert len(studies) == 1
    modalities = {s["00080060"]["Value"][0] for s in orthanc.client.search_for_series(seg.StudyInstanceUID)}
    assert "SEG" in modalities


def test_blank_specific_character_set_is_dropped_and_names_are_re_encoded(tmp_path: Path, shared_data: Path) -> None:
    """An empty SpecificCharacterSet is omitted; an ISO 2022 / UTF-8 name is carried as decoded."""
    for name, charset, patient in [("charset_blank", None, None),
                                   ("name_iso2022_jp", ["ISO 2022 IR 6", "ISO 2022 IR 87"],
                                    "Yamada^Tarou=山田^太郎=やまだ^たろう"),
                                   ("name_utf8", "ISO_IR 192", "Müller^Jürgen"),
                                   ("charset_unknown", None, None)]:
        volume = load_volume(make(name, "ge_native", tmp_path / name, shared_data))
        lm = labelmap_for(volume.spatial_shape)
        result = write_result(volume, lm, liver_spleen(), tmp_path / f"r-{name}", WriterOptions(formats=("dicom-seg",)))
        ds = pydicom.dcmread(result.files["dicom-seg"], stop_before_pixels=True)
        if charset is None:
            assert "SpecificCharacterSet" not in ds or ds.SpecificCharacterSet in ("ISO_IR 100", "ISO_IR 192"), name
        else:
            assert ds.SpecificCharacterSet == charset, name
        if patient is not None:
            assert str(ds.PatientName) == patient, name


def test_headers_are_repaired_only_from_what_the_file_states(tmp_path: Path, shared_data: Path) -> None:
    """SOPClassUID / SOPInstanceUID come from the file meta; type 2 patient attributes stay empty."""
    series = make("sop_uid_blank", "ge_native", tmp_path / "a", shared_data)
    metas = {pydicom.dcmread(p, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID
             for p in series.iterdir()}
    volume = load_volume(series)
    lm = labelmap_for(volume.spatial_shape)
    result = write_result(volume, lm, liver_spleen(), tmp_path / "r", WriterOptions(formats=("dicom-seg",)))
    import highdicom as hd

    seg = hd.seg.segread(result.files["dicom-seg"])
    assert {uid for _, _, uid in seg.get_source_image_uids()} == metas
    blank = load_volume(make("patient_blank", "ge_native", tmp_path / "b", shared_data))
    result = write_result(blank, labelmap_for(blank.spatial_shape), liver_spleen(), tmp_path / "rb",
                          WriterOptions(formats=("dicom-seg", "rtstruct")))
    for fmt in ("dicom-seg", "rtstruct"):
        ds = pydicom.dcmread(result.files[fmt], stop_before_pixels=True)
        assert ds.PatientName == "" and ds.PatientID == "", fmt  # present (type 2), empty, not invented
