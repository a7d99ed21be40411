"""Every quirk variant of real series reads like its clean copy, or fails with one clear line.

The corpus (tests/quirks/corpus.py) is written once per module into a tmp folder; each variant
is read with `load_volume` (the library) and all of them together with `medsee ingest` (the
command, one batch: the failing variants must not stop the others).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from medsee_cli.errors import InputError
from medsee_cli.io import Volume, load_volume
from tests.quirks import corpus

CASES = corpus.cases()
PATIENT_NAMES = ("Müller", "Jürgen", "Yamada", "山田", "やまだ", "Gérard", "M\\xfcller")
REFERENCES = {  # dcm2niix's own conversion of the whole series each source is cut from
    "siemens_jpegll": ("dicom/dcm_qa_frag/Ref/anat-T1w_acq-tfl_5001.nii", None),
    "siemens_j2k": ("dicom/dcm_qa_frag/Ref/anat-T1w_acq-tfl_6001.nii", None),
    "enhanced_mr": ("dicom/dcm_qa_enh/Ref/Siemens_REST1_w_SMS_PF7-8_6.nii", 0),  # first of 4 volumes
}


@pytest.fixture(scope="module")
def corpus_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quirks")
    for name, key in CASES:
        corpus.make_variant(name, key, root)
    return root


@pytest.fixture(scope="module")
def outcomes(corpus_dir: Path) -> dict[tuple[str, str], Volume | InputError]:
    results: dict[tuple[str, str], Volume | InputError] = {}
    for name, key in CASES:
        try:
            results[(name, key)] = load_volume(corpus_dir / f"{key}-{name}")
        except InputError as exc:
            results[(name, key)] = exc
    return results


def _canonical(vol: Volume) -> nib.Nifti1Image:
    return nib.as_closest_canonical(nib.Nifti1Image(np.asarray(vol.array()), vol.affine))


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{k}-{n}" for n, k in CASES])
def test_variant_reads_like_the_clean_series_or_fails_clearly(
    outcomes: dict[tuple[str, str], Volume | InputError], corpus_dir: Path, name: str, key: str
) -> None:
    variant = corpus.VARIANTS[name]
    expected = corpus.expectation(name, key)
    result = outcomes[(name, key)]
    if expected.startswith("fails: "):
        assert isinstance(result, InputError), f"expected a failure, read {result!r}"
        text = str(result)
        assert "\n" not in text and expected[len("fails: "):] in result.reason, text
        assert result.item and result.item in text
        return
    assert not isinstance(result, InputError), str(result)
    clean = outcomes[("clean", key)]
    assert isinstance(clean, Volume)
    ours, reference = _canonical(result), _canonical(clean)
    assert ours.shape == reference.shape
    if variant.same in ("all", "geometry"):
        np.testing.assert_allclose(ours.affine, reference.affine, atol=1e-3)
    if variant.same in ("all", "voxels"):
        np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(reference.dataobj))
    if variant.note is not None:
        assert any(variant.note in note for note in result.notes), result.notes
    assert result.refs is not None and len(result.refs.slices) == result.spatial_shape[2] * result.n_volumes


@pytest.mark.parametrize("key", sorted(corpus.SOURCES))
def test_clean_copies_keep_the_source_uids_consistent(outcomes: dict, key: str) -> None:
    vol = outcomes[("clean", key)]
    refs = vol.refs
    assert refs.series_instance_uid.startswith("2.25.") and refs.study_instance_uid.startswith("2.25.")
    assert all(s.sop_instance_uid.startswith("2.25.") for s in refs.slices)
    assert len({s.sop_instance_uid for s in refs.slices}) == len({s.file for s in refs.slices})  # one per file


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_clean_copies_equal_dcm2niix_reference_slab(shared_data: Path, outcomes: dict, key: str) -> None:
    """The few slices a variant keeps sit exactly where dcm2niix put them in the whole series."""
    path, volume_index = REFERENCES[key]
    ref = nib.load(str(shared_data / path))
    ref_data = np.asarray(ref.dataobj)
    if volume_index is not None:
        ref_data = ref_data[..., volume_index]
    vol = outcomes[("clean", key)]
    ours = np.asarray(vol.array())
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in ours.shape[:3]], indexing="ij"), axis=-1).reshape(-1, 3)
    to_ref = np.linalg.inv(ref.affine) @ vol.affine
    mapped = ijk @ to_ref[:3, :3].T + to_ref[:3, 3]
    index = np.rint(mapped).astype(int)
    assert np.abs(mapped - index).max() < 0.01  # same grid, whole voxels
    values = ref_data[index[:, 0], index[:, 1], index[:, 2]]
    np.testing.assert_array_equal(ours.reshape(-1, order="C"), values)


@pytest.mark.parametrize(
    ("name", "key"),
    [(n, k) for n, k in CASES if n in ("sop_uid_blank", "sop_uid_removed")],
)
def test_sop_instance_uid_comes_from_the_file_meta(outcomes: dict, name: str, key: str) -> None:
    """The dataset lost its SOPInstanceUID; MediaStorageSOPInstanceUID (the file's own) is used."""
    vol, clean = outcomes[(name, key)], outcomes[("clean", key)]
    originals = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in corpus.source_files(key)}
    expected = {corpus.fresh_uid(name, key, uid) for uid in originals}
    assert {s.sop_instance_uid for s in vol.refs.slices} == expected
    assert vol.refs.sop_class_uid == clean.refs.sop_class_uid


@pytest.mark.parametrize("name", ["sop_class_blank", "sop_class_removed", "sop_class_hashed", "sop_class_unknown_uid"])
def test_sop_class_comes_from_the_file_meta(outcomes: dict, name: str) -> None:
    for key in corpus.VARIANTS[name].sources:
        assert outcomes[(name, key)].refs.sop_class_uid == outcomes[("clean", key)].refs.sop_class_uid


def test_blank_identity_is_left_blank_not_invented(outcomes: dict) -> None:
    for key in corpus.VARIANTS["series_uid_blank"].sources:
        assert outcomes[("series_uid_blank", key)].refs.series_instance_uid == ""
        assert outcomes[("study_uid_blank", key)].refs.study_instance_uid == ""
        assert outcomes[("frame_of_reference_blank", key)].refs.frame_of_reference_uid is None
    for key in corpus.VARIANTS["sop_uid_nowhere"].sources:
        assert all(s.sop_instance_uid == "" for s in outcomes[("sop_uid_nowhere", key)].refs.slices)


def test_rescale_missing_keeps_stored_values(outcomes: dict) -> None:
    for key in corpus.VARIANTS["rescale_removed"].sources:
        stored = np.asarray(outcomes[("rescale_removed", key)].array(), dtype=np.int32)
        hu = np.asarray(outcomes[("clean", key)].array(), dtype=np.int32)
        np.testing.assert_array_equal(stored - 1024, hu)  # both CT sources have intercept -1024


def test_ingest_batch_of_every_variant(corpus_dir: Path, outcomes: dict, tmp_path: Path) -> None:
    """One `medsee ingest` over the whole corpus: each failing variant is one line, the rest written."""
    before = {p: p.stat().st_mtime_ns for p in corpus_dir.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "medsee_cli", "ingest", str(corpus_dir), "--out", str(out), "--json"],
        capture_output=True, text=True,
    )
    failures = {case: r for case, r in outcomes.items() if isinstance(r, InputError)}
    assert run.returncode == (1 if failures else 0), run.stderr[-2000:]
    lines = run.stderr.splitlines()
    assert "Traceback" not in run.stderr
    assert all(line.startswith("medsee: error: ") for line in lines), lines[:5]
    assert len(lines) == len(failures)
    for case, error in failures.items():
        matching = [line for line in lines if error.item in line and error.reason in line]
        assert len(matching) == 1, (case, str(error))
    summary = json.loads(run.stdout)
    written = {item["key"]: item for item in summary["items"] if item["status"] == "written"}
    volumes = {case: r for case, r in outcomes.items() if not isinstance(r, InputError)}
    assert summary["written"] == len(volumes) and summary["failed"] == len(failures)
    for (name, key), vol in volumes.items():
        item = written[vol.source]
        assert tuple(item["shape"]) == vol.shape, (name, key)
        if corpus.VARIANTS[name].same == "all":
            data = np.asarray(nib.load(item["nifti"]).dataobj)
            np.testing.assert_array_equal(data, np.asarray(outcomes[("clean", key)].array()), err_msg=f"{key}-{name}")
    texts = [run.stdout, run.stderr] + [p.read_text(errors="replace") for p in (out / "series").glob("*.json")]
    with sqlite3.connect(out / "catalog.sqlite") as db:
        texts += [repr(row) for table, in db.execute("select name from sqlite_master where type='table'")
                  for row in db.execute(f"select * from {table}")]
    for text in texts:
        assert not any(name in text for name in PATIENT_NAMES)
    assert {p: p.stat().st_mtime_ns for p in corpus_dir.rglob("*") if p.is_file()} == before  # inputs untouched


def test_an_image_in_another_plane_is_its_own_series_not_a_stray(corpus_dir: Path, tmp_path: Path) -> None:
    """A localizer-like image sharing the series UID but lying in another plane stays readable."""
    from medsee_cli.io.dicom.discover import find_candidates, scan_headers
    from medsee_cli.io.dicom.series import assemble

    folder = corpus.make_variant("clean", "ge_native", tmp_path)
    first = sorted(folder.iterdir())[0]
    ds = pydicom.dcmread(first)
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # sagittal
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = corpus.fresh_uid("plane", "ge_native", "x")
    ds.save_as(folder / "sagittal_view")
    candidates, _ = find_candidates([folder])
    assembly = assemble(list(scan_headers(candidates.dicom).headers))
    assert not assembly.failures
    assert sorted(p.shape for p in assembly.plans) == [(256, 256, 1), (256, 256, 6)]


def test_disagreeing_uids_leave_the_volume_without_one(outcomes: dict) -> None:
    for key in corpus.VARIANTS["frame_of_reference_per_file"].sources:
        assert outcomes[("frame_of_reference_per_file", key)].refs.frame_of_reference_uid is None
    for key in corpus.VARIANTS["study_uid_per_file"].sources:
        assert outcomes[("study_uid_per_file", key)].refs.study_instance_uid == ""


def test_a_rerun_from_the_header_cache_says_the_same(shared_data: Path, tmp_path: Path) -> None:
    """Quirk notes and series errors survive the catalog's header cache (the second run reads no header)."""
    from medsee_cli.services.ingest import IngestOptions, ingest

    chosen = [("rescale_conflicting_values", "ct_jpegls"), ("rescale_removed", "ct_jpegls"),
              ("series_uid_blank", "ge_native"), ("orientation_removed_one_slice", "ge_native")]
    for name, key in chosen:
        corpus.make_variant(name, key, tmp_path / "in")
    runs = []
    for force in (False, True):
        report = ingest([tmp_path / "in"], IngestOptions(out=tmp_path / "out", force=force))
        runs.append(sorted((r.status, r.reason or "", tuple(r.notes)) for r in report.results))
    assert runs[0] == runs[1]
    assert [status for status, _, _ in runs[0]].count("failed") == 2
    notes = [n for _, _, ns in runs[0] for n in ns]
    assert any("RescaleIntercept" in n for n in notes) and any("no SeriesInstanceUID" in n for n in notes)


DCM2NIIX_SOURCES = ("ge_native", "ct_single", "enhanced_mr")  # native: this dcm2niix build cannot
# decode pixel data split into several fragments (dcm_qa_frag's very point), nor JPEG-LS
DCM2NIIX_REFUSES = {"no_preamble"}  # dcm2niix finds no DICOM in files without the 128-byte preamble
# dcm2niix decodes PixelSpacing as text whatever VR the file states ("Please check voxel size"); the
# value the file's explicit VR FD holds is the true spacing, which medsee (pydicom) reads.
# It also keeps the bits above HighBit that the standard says are not part of the pixel value.
DCM2NIIX_MISREADS = {"vr_mismatch", "bits_stored_garbage"}


@pytest.mark.parametrize("key", DCM2NIIX_SOURCES)
def test_reading_variants_agree_with_a_live_dcm2niix_run(corpus_dir: Path, outcomes: dict, tmp_path: Path, key: str) -> None:
    """Where a quirk should change nothing, medsee and dcm2niix see the same volume."""
    from tests.conftest import require_tool
    from tests.io.dicom_helpers import assert_same_image

    dcm2niix = require_tool("dcm2niix")
    checked, refused = 0, set()
    for name, variant in corpus.VARIANTS.items():
        if key not in variant.sources or variant.same != "all" or corpus.expectation(name, key) != "reads":
            continue
        if name in DCM2NIIX_MISREADS:
            continue
        out = tmp_path / name
        out.mkdir()
        run = subprocess.run([dcm2niix, "-z", "n", "-b", "n", "-f", "ref", "-o", str(out), str(corpus_dir / f"{key}-{name}")],
                             capture_output=True, text=True)
        produced = sorted(out.glob("*.nii"))
        if run.returncode != 0 or not produced:
            refused.add(name)
            continue
        assert len(produced) == 1, (name, [p.name for p in produced])
        ours = outcomes[(name, key)]
        try:
            assert_same_image(ours, nib.load(str(produced[0])))
        except AssertionError as exc:
            raise AssertionError(f"{key}-{name}: {exc}") from None
        checked += 1
    assert refused <= DCM2NIIX_REFUSES, refused
    assert checked + len(refused) >= 10


@pytest.mark.parametrize(
    "command",
    [["segment", "{src}", "--target", "liver", "--out", "{out}"], ["ask", "{src}", "segment the liver", "--out", "{out}"]],
    ids=["segment", "ask"],
)
def test_commands_refuse_an_unplaceable_series_in_one_line(corpus_dir: Path, outcomes: dict, tmp_path: Path,
                                                            command: list[str]) -> None:
    """Before any model work: exit 1, one `medsee: error:` line naming the file, nothing written."""
    source = corpus_dir / "ct_jpegls-position_removed_one_slice"
    out = tmp_path / "out"
    args = [a.format(src=source, out=out) for a in command]
    run = subprocess.run([sys.executable, "-m", "medsee_cli", *args], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    error = outcomes[("position_removed_one_slice", "ct_jpegls")]
    assert run.stderr.splitlines() == [f"medsee: error: {error.item}: {error.reason}"]
    # nothing written for the case; a batch `segment` leaves its run summary (the failure, listed)
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    assert written in ([], ["run.json"])
