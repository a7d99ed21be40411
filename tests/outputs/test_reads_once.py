"""Every DICOM source file is read once per run (issue 13): its header once, its pixels once.

A full `read_input` + `write_findings` (mask, boxes, preview, DICOM-SEG, RTSTRUCT) on real
multi-file series, native and compressed: pydicom parses each source file once (the header scan,
which keeps the header for the pixel decoder and the writers), and each file is opened twice, by
the header scan and to read its pixel data (from where the scan saw them begin, or the file's tail
for uncompressed frames). The writers open no source file: a look at its size and mtime tells
whether it is still the file that was read.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from medsee_cli.io import load_volume
from medsee_cli.io.volume import Volume
from medsee_cli.writers import WriterOptions, write_result
from tests.outputs.conftest import labelmap_for, liver_spleen

REPO = Path(__file__).resolve().parents[2]
SERIES = {  # real multi-file series: (where, how many files)
    "ct_jpegls": ("repo:sample_data/abdomen_jaundice_dicom", 64),
    "ge_native": ("dicom/dcm_qa_ge/In/05_3D_Ax_T1_MP_RAGE_R22", 130),
    "siemens_j2k_fragments": ("dicom/dcm_qa_frag/In/6001_anat-T1w_acq-tfl", 96),
}
FORMATS = ("nifti", "json", "png", "dicom-seg", "rtstruct")


def _series(name: str, shared_data: Path) -> Path:
    where, _ = SERIES[name]
    return REPO / where[len("repo:"):] if where.startswith("repo:") else shared_data / where


class Reads:
    """Counts, per file under ``root``, how often it is opened and how often pydicom parses it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = os.path.realpath(root)
        self.opens: Counter[str] = Counter()
        self.parses: Counter[str] = Counter()
        self._lock = threading.Lock()
        real_open, real_dcmread = builtins.open, pydicom.dcmread

        def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            handle = real_open(file, *args, **kwargs)  # only what did open counts
            self._count(self.opens, file)
            return handle

        def counting_dcmread(fp: Any, *args: Any, **kwargs: Any) -> Any:
            self._count(self.parses, fp if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", None))
            return real_dcmread(fp, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", counting_open)
        monkeypatch.setattr(io, "open", counting_open)
        monkeypatch.setattr(pydicom, "dcmread", counting_dcmread)

    def _count(self, counter: Counter[str], name: Any) -> None:
        if not isinstance(name, (str, os.PathLike)):
            return
        path = os.path.realpath(os.fspath(name))
        if path.startswith(self.root + os.sep):
            with self._lock:
                counter[path] += 1


def _findings(volume: Volume) -> list[Any]:
    from medsee_cli.engine.findings import Finding
    from medsee_cli.measure import RegionMask, measure

    labelmap = labelmap_for(volume.spatial_shape)
    findings = []
    for value, target in ((1, "liver"), (2, "spleen")):
        region = RegionMask((0, 0, 0), labelmap == value)
        findings.append(Finding(target, True, score=0.9, measurement=measure(volume, region, volume.modality),
                                region=region))
    return findings


@pytest.mark.parametrize("name", sorted(SERIES))
def test_each_source_file_is_parsed_once_and_opened_twice_header_then_pixels(
        name: str, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medsee_cli.services.inputs import read_input
    from medsee_cli.services.results import write_findings

    series = _series(name, shared_data)
    files = sorted(os.path.realpath(p) for p in series.iterdir() if p.is_file())
    assert len(files) == SERIES[name][1]
    reads = Reads(series, monkeypatch)
    volume = read_input(series)
    after_reading = dict(reads.opens)
    outputs, warnings = write_findings(volume, _findings(volume), tmp_path / "result", False, "test-model",
                                       "test", FORMATS)
    monkeypatch.undo()
    assert warnings == [] and outputs["dicom_seg"] and outputs["rtstruct"], (outputs, warnings)
    assert dict(reads.opens) == after_reading  # the writers opened no source file
    assert reads.parses == Counter(dict.fromkeys(files, 1)), "each file parsed by pydicom exactly once"
    assert reads.opens == Counter(dict.fromkeys(files, 2)), "each file opened twice: header scan, pixel data"
    assert volume.refs is not None and set(volume.refs.headers) == {s.file for s in volume.refs.slices}


def test_a_source_file_touched_after_loading_is_not_referenced(tmp_path: Path, shared_data: Path) -> None:
    """Without reading the files again, a file whose size or mtime changed counts as changed,
    even when its bytes did not (the safe side: a SEG never cites a file that may be another)."""
    from tests.outputs.conftest import make

    series = make("clean", "ge_native", tmp_path / "in", shared_data)
    volume = load_volume(series)
    victim = sorted(series.iterdir())[1]
    st = victim.stat()
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    result = write_result(volume, labelmap_for(volume.spatial_shape), liver_spleen(), tmp_path / "result",
                          WriterOptions(formats=("nifti", "dicom-seg", "rtstruct")))
    reason = "the source files changed since the volume was read (a file's size or modification time differ)"
    assert result.skipped == {"dicom-seg": reason, "rtstruct": reason}
    assert result.files["nifti"].is_file()
    assert json.loads((tmp_path / "result" / "provenance.json").read_text())["not_written"] == result.skipped


def test_the_kept_headers_are_copied_for_each_writer(tmp_path: Path, shared_data: Path) -> None:
    """A writer's in-memory repairs (sanitise) reach neither the kept header nor the next writer."""
    from medsee_cli.writers.dicom_source import source_series

    volume = load_volume(_series("ct_jpegls", shared_data))
    assert volume.refs is not None
    kept = volume.refs.headers[volume.refs.slices[0].file]
    before = {tag: elem for tag, elem in kept.elements.items()}
    first = source_series(volume)
    first.datasets[0].PatientName = "Changed^ByAWriter"
    second = source_series(volume)
    assert second.datasets[0].PatientName != "Changed^ByAWriter"
    assert kept.elements == before and all(kept.elements[t] is before[t] for t in before)
    assert np.array_equal(first.frames(labelmap_for(volume.spatial_shape)),
                          second.frames(labelmap_for(volume.spatial_shape)))


@pytest.mark.parametrize("source", ["ge_native", "ct_jpegls"])  # pixels from the file's tail / after the kept header
def test_a_file_changed_between_its_header_and_its_pixels_is_named(source: str, tmp_path: Path,
                                                                  shared_data: Path) -> None:
    from medsee_cli.errors import InputError
    from medsee_cli.io.dicom.discover import find_candidates, scan_headers
    from medsee_cli.io.dicom.reader import plan_to_volume
    from medsee_cli.io.dicom.series import assemble
    from tests.outputs.conftest import make

    series = make("clean", source, tmp_path / "in", shared_data)
    candidates, _ = find_candidates([series])
    scan = scan_headers(candidates.dicom, keep=True)
    (plan,) = assemble(list(scan.headers)).plans
    victim = sorted(series.iterdir())[3]
    st = victim.stat()
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(InputError, match=f"{victim.name}: changed while it was being read"):
        plan_to_volume(plan, kept=scan.kept)
