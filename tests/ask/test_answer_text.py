"""What `medsee ask` prints for a person: the README's sample and the real output have the same
parts in the same order, and the answer ends with how to open the files in common viewers."""

from __future__ import annotations

import re
from pathlib import Path

from medsee_cli.services.ask import CAVEAT, AskOptions, ask
from medsee_cli.services.ask_text import NO_FILES, TARGETS_HEADING, render
from medsee_cli.services.viewing import how_to_view
from tests.ask.conftest import EVERYTHING, REPO

KINDS = (  # (kind, pattern) in the order they are tried; anything else is the reasoning's own text
    ("blank", r"$"),
    ("caveat", re.escape(CAVEAT) + "$"),
    ("finding", r"[A-Z][\w ,'()-]*: (found |not found in this scan( \(|\.)|not segmented \()"),
    ("slice note", r"Slice numbers count from 1 here"),
    ("heading", re.escape(TARGETS_HEADING) + "$"),
    ("target", r"  \d+\. [a-z0-9_]+ \((SNOMED CT \d+, )?score \d\.\d\d\): \S"),
    ("target", r"  Equal scores are listed by name \("),
    ("files", r"Files: "),
    ("viewer", r"View in (ITK-SNAP|3D Slicer|OHIF/Orthanc): "),
)


def kinds(lines: list[str]) -> list[str]:
    """The kind of each line, runs of one kind collapsed (three findings read as one part)."""
    found: list[str] = []
    for line in lines:
        kind = next((name for name, pattern in KINDS if re.match(pattern, line)), "text")
        if not found or found[-1] != kind:
            found.append(kind)
    return found


def readme_samples() -> list[list[str]]:
    """The output lines of every ``$ medsee ask`` console block in the README."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ medsee ask [^\n]*\n(.*?)```", text, flags=re.S)
    return [block.rstrip("\n").split("\n") for block in blocks]


def test_the_readme_sample_and_the_printed_answer_agree(tiny_model_dir, tiny_ct, tmp_path) -> None:
    out = tmp_path / "result"
    result = ask(tiny_ct, "what is causing his jaundice?",
                 AskOptions(out=out, model=str(tiny_model_dir), engine=EVERYTHING, max_targets=2, encoder="none"))
    printed = render(result, out).split("\n")
    assert kinds(printed) == ["text", "finding", "caveat", "blank", "heading", "target", "blank", "files", "viewer"]
    samples = readme_samples()
    assert samples, "the README shows no `$ medsee ask` output"
    for sample in samples:
        assert kinds(sample) == kinds(printed), sample
    assert printed[-2:] == list(result.viewing) and str(out / "mask.nii.gz") in printed[-2]


def test_without_out_the_answer_says_no_files_were_written(tiny_model_dir, tiny_ct) -> None:
    result = ask(tiny_ct, "where is the liver?",
                 AskOptions(model=str(tiny_model_dir), engine=EVERYTHING, encoder="none"))
    printed = render(result, None).split("\n")
    assert printed[-1] == NO_FILES and result.viewing == ()
    assert printed.index(TARGETS_HEADING) > printed.index(CAVEAT)


def test_viewer_lines_for_a_nifti_source() -> None:
    lines = how_to_view("my scan.nii.gz", {"mask": "out/mask.nii.gz", "dicom_seg": None}, dicom=False)
    assert lines == ("View in ITK-SNAP: itksnap -g 'my scan.nii.gz' -s out/mask.nii.gz",
                     "View in 3D Slicer: File > Add Data with out/mask.nii.gz, its Description set to Segmentation, "
                     "together with my scan.nii.gz.")


def test_viewer_lines_for_a_dicom_source_with_and_without_its_seg() -> None:
    with_seg = how_to_view("case7/", {"mask": "out/mask.nii.gz", "dicom_seg": "out/seg.dcm"}, dicom=True)
    assert [line.split(":")[0] for line in with_seg] == ["View in 3D Slicer", "View in OHIF/Orthanc"]
    assert "import case7/ and out/seg.dcm in the DICOM module" in with_seg[0]
    assert "QuantitativeReporting extension" in with_seg[0] and "store out/seg.dcm in the PACS" in with_seg[1]
    without = how_to_view("case7/", {"mask": "out/mask.nii.gz", "dicom_seg": None}, dicom=True)
    assert without == ("View in 3D Slicer: File > Add Data with out/mask.nii.gz, its Description set to "
                       "Segmentation, after loading case7/ in the DICOM module.",)
    assert how_to_view("case7/", {"mask": None, "dicom_seg": None}, dicom=True) == ()


def dicom_copy(tiny_ct: Path, folder: Path, numbers: list[int]) -> Path:
    """The tiny CT as a DICOM series whose images carry ``numbers`` as InstanceNumbers."""
    import numpy as np
    import pydicom

    from medsee_cli.io import load_volume
    from medsee_cli.synth.dicom_series import SeriesOptions, write_ct_series

    source = load_volume(tiny_ct)
    paths = write_ct_series(np.asarray(source.dataobj), source.affine, folder, SeriesOptions(seed_uids=str(folder)))
    for path, number in zip(paths, numbers):
        ds = pydicom.dcmread(path)
        ds.InstanceNumber = number
        ds.save_as(path)
    return folder


def test_a_dicom_answer_names_slices_by_instance_number_and_says_when_it_cannot(tiny_model_dir, tiny_ct, tmp_path):
    options = AskOptions(model=str(tiny_model_dir), engine=EVERYTHING, encoder="none")
    numbered = ask(dicom_copy(tiny_ct, tmp_path / "numbered", [41, 42]), "where is the liver?", options)
    (liver,) = numbered.findings
    assert [s["number"] for s in liver.slices] == [41, 42] and [s["index"] for s in liver.slices] == [0, 1]
    assert "on slices 41-42 (table " in numbered.answer and "count from 1" not in numbered.answer
    assert numbered.to_dict()["slice_numbers"] == {"scheme": "InstanceNumber", "note": None, "table_position": True}
    repeated = ask(dicom_copy(tiny_ct, tmp_path / "repeated", [5, 5]), "where is the liver?", options)
    assert "on slices 1-2 (table " in repeated.answer
    assert ("Slice numbers count from 1 here, not InstanceNumbers: the images share InstanceNumbers "
            "(1 distinct for 2 slices).") in repeated.answer
