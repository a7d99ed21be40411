"""Fixtures for the output tests: quirky real series (tests/quirks/corpus.py), label maps on
their grid, checks of a written SEG/RTSTRUCT (dciodvfy, highdicom), and a real Orthanc.

Orthanc runs once per session on 127.0.0.1 with a free port and a temporary storage folder;
it is stopped at the end. Objects go to it with DICOMweb STOW-RS (`dicomweb-client`).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import IN_CI, require_tool

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
STARTUP_S = 300.0  # a guard against a hang, not a timing: CI machines may be loaded

# Variants for which no honest DICOM object can reference the source: the reason's fragment.
NOT_MADE = {
    "study_uid_blank": "the source series has no StudyInstanceUID",
    "study_uid_removed": "the source series has no StudyInstanceUID",
    "series_uid_blank": "the source series has no SeriesInstanceUID",
    "series_uid_removed": "the source series has no SeriesInstanceUID",
    "sop_uid_nowhere": "the source series has no SOPInstanceUID",
    "frame_of_reference_blank": "the source series has no FrameOfReferenceUID",
    "frame_of_reference_removed": "the source series has no FrameOfReferenceUID",
    "duplicate_sop_uid": "the source series has duplicated SOPInstanceUIDs",
    "study_uid_per_file": "the source slices disagree on StudyInstanceUID",
    "frame_of_reference_per_file": "the source slices disagree on FrameOfReferenceUID",
}


def expected_reason(name: str, source: str) -> str | None:
    """Why no SEG/RTSTRUCT can be made for this variant (a reason's start), or None."""
    if name in NOT_MADE:
        return NOT_MADE[name]
    first = pydicom.dcmread(corpus().source_files(source)[0], stop_before_pixels=True)
    if not str(first.get("FrameOfReferenceUID", "")).strip():  # the real file itself has none
        return "the source series has no FrameOfReferenceUID"
    return None


def corpus():  # type: ignore[no-untyped-def]
    from tests.quirks import corpus as module

    return module


def make(name: str, source: str, dest: Path, shared_data: Path) -> Path:
    """Variant ``name`` of ``source`` written under ``dest`` (``shared_data`` proves the data is there)."""
    return corpus().make_variant(name, source, dest)


def labelmap_for(shape: tuple[int, int, int]) -> np.ndarray:
    """Two labels on a few slices (never the first one), asymmetric to reveal flips."""
    lm = np.zeros(shape, np.uint8)
    ni, nj, nk = shape
    lm[ni // 8: ni // 2, nj // 4: nj // 2, 1: max(2, nk - 1)] = 1
    lm[ni // 2: ni - ni // 8, nj // 2: nj - nj // 8, nk // 2: nk // 2 + 1] = 2
    return lm


def liver_spleen():  # type: ignore[no-untyped-def]
    from medsee_cli.writers.labels import LabelTable

    return LabelTable.from_names({1: "liver", 2: "spleen"})


def dciodvfy_errors(path: Path) -> list[str]:
    tool = require_tool("dciodvfy")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=1800)  # a hang guard only
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


def source_uids(volume) -> tuple[str, str, list[str]]:  # type: ignore[no-untyped-def]
    """(StudyInstanceUID, FrameOfReferenceUID, SOPInstanceUIDs) as the sanitised headers state them."""
    from medsee_cli.writers.dicom_source import source_series

    source = source_series(volume)
    first = source.datasets[0]
    return str(first.StudyInstanceUID), str(first.FrameOfReferenceUID), source.sop_instance_uids()


def check_seg(path: Path, volume, labelmap: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A written SEG: 0 dciodvfy errors, highdicom reads it, references and pixels are right."""
    import highdicom as hd

    from medsee_cli.writers.dicom_read import read_seg_on

    assert dciodvfy_errors(path) == [], path
    seg = hd.seg.segread(path)
    study, frame, sops = source_uids(volume)
    assert seg.StudyInstanceUID == study and seg.FrameOfReferenceUID == frame
    referenced = {uid for _, _, uid in seg.get_source_image_uids()}
    assert referenced == set(sops)
    back, _ = read_seg_on(path, volume)
    assert np.array_equal(back, labelmap)


def check_rtstruct(path: Path, volume) -> None:  # type: ignore[no-untyped-def]
    assert dciodvfy_errors(path) == [], path
    ds = pydicom.dcmread(path)
    study, frame, sops = source_uids(volume)
    assert ds.StudyInstanceUID == study and ds.FrameOfReferenceUID == frame
    images = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    cited = {item.ReferencedSOPInstanceUID for item in images.RTReferencedSeriesSequence[0].ContourImageSequence}
    assert cited == set(sops)


def provenance(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "provenance.json").read_text())


# ------------------------------------------------------------------------------------ Orthanc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orthanc:
    """A running Orthanc: its DICOMweb root and a `dicomweb_client.DICOMwebClient`."""

    def __init__(self, url: str) -> None:
        from dicomweb_client.api import DICOMwebClient

        self.url = url
        self.client = DICOMwebClient(url=f"{url}/dicom-web")

    def store(self, paths: list[Path]) -> None:
        self.client.store_instances([pydicom.dcmread(p) for p in paths])

    def has_instance(self, study: str, sop_instance_uid: str) -> bool:
        found = self.client.search_for_instances(study_instance_uid=study,
                                                 search_filters={"SOPInstanceUID": sop_instance_uid})
        return len(found) == 1


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory) -> Iterator[Orthanc]:  # type: ignore[no-untyped-def]
    """A real Orthanc (Debian package) on loopback, for this test session only."""
    if not Path(ORTHANC).is_file() or not Path(DICOMWEB_PLUGIN).is_file():
        message = "Orthanc with its DICOMweb plugin is not installed (Debian: see 'make system-deps')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    import urllib.request

    root = tmp_path_factory.mktemp("orthanc")
    http, dicom = _free_port(), _free_port()
    config = {
        "Name": "medsee-tests", "StorageDirectory": str(root / "db"), "IndexDirectory": str(root / "db"),
        "HttpPort": http, "DicomPort": dicom, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "HttpServerEnabled": True, "DicomServerEnabled": False, "Plugins": [DICOMWEB_PLUGIN],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}, "StableAge": 1,
    }
    (root / "orthanc.json").write_text(json.dumps(config))
    log = open(root / "orthanc.log", "wb")
    process = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/system", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Orthanc did not start: {(root / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield Orthanc(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
