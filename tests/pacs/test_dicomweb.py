"""`medsee ingest URL` and `medsee export ... --push URL` against a real Orthanc (issue 16).

Real series from ../shared/data (6-slice crops from the quirk corpus: GE native MR, Siemens JPEG
lossless MR, a JPEG-LS CT, and a GE series whose middle slice lost its ImagePositionPatient) are
stored in an Orthanc with basic auth; ingesting its DICOMweb URL must give the catalog, NIfTI
files and sidecars that ingesting the same files from a folder gives, with the bad instance named
by its DICOMweb name. A re-run downloads nothing unchanged. A SEG made by `medsee export` goes
back into its source study and is read back with QIDO/WADO; a re-run pushes nothing. A second
Orthanc is killed in the middle of a run: retries with backoff, one line per series, and the
next run completes. Credentials never appear in any output or log, nor do patient attributes.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from medsee_cli.cli.app import app
from medsee_cli.errors import UsageError
from medsee_cli.pacs.config import (ENV_CA, ENV_CONFIG, ENV_PASSWORD, ENV_TOKEN, ENV_USER, endpoint_for,
                                    load_settings, public_url)
from medsee_cli.pacs.options import NetOptions
from medsee_cli.pacs.retry import Breaker, NetworkError, with_retries
from medsee_cli.pacs.search import SearchFilters
from medsee_cli.services.catalog import Catalog
from medsee_cli.services.ingest import IngestOptions, ingest
from medsee_cli.services.push import PushOptions, push_instances
from tests.orthanc import Orthanc, free_port, running_orthanc

PASSWORD = "pacs-Secr3t-4-tests"
USER = "medsee"
FAST = NetOptions(connect_timeout_s=2, read_timeout_s=10, attempts=3, backoff_s=0.05, backoff_max_s=0.2, budget_s=1)
SERIES = (("clean", "ge_native"), ("clean", "siemens_jpegll"), ("clean", "ct_jpegls"),
          ("position_blank_one_slice", "ge_native"))
BAD = "ge_native-position_blank_one_slice"
PATIENT = {"PatientName": "Testpatient^Jane", "PatientID": "MRN-7731-QX", "AccessionNumber": "ACC-55X91"}


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """The CLI in this process (so tests can count requests); only ``env``'s login variables are set."""
    base: dict[str, str | None] = {ENV_USER: None, ENV_PASSWORD: None, ENV_TOKEN: None, ENV_CONFIG: None, ENV_CA: None}
    return CliRunner().invoke(app, list(args), env={**base, **(env or {})})


def login() -> dict[str, str]:
    return {ENV_USER: USER, ENV_PASSWORD: PASSWORD}


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's own ~/.config/medsee/dicomweb.toml or login variables leak into a test."""
    for name in (ENV_USER, ENV_PASSWORD, ENV_TOKEN, ENV_CA, ENV_CONFIG):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A PACS-export-like folder: one subfolder per series, every file naming one (made-up) patient."""
    from tests.quirks.corpus import make_variant

    root = tmp_path_factory.mktemp("pacs-export")
    for name, source in SERIES:
        for path in sorted(make_variant(name, source, root).iterdir()):
            ds = pydicom.dcmread(path)
            for keyword, value in PATIENT.items():
                setattr(ds, keyword, value)
            ds.save_as(path)
    return root


def uids(folder: Path) -> dict[str, Any]:
    files = sorted(folder.iterdir())
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    return {"study": str(first.StudyInstanceUID), "series": str(first.SeriesInstanceUID),
            "sops": [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files], "files": files}


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory, export: Path) -> Any:
    """Orthanc with basic auth (one user), holding every series of ``export``."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc-auth"), {USER: PASSWORD}) as server:
        for folder in sorted(export.iterdir()):
            server.store(sorted(folder.iterdir()))
        yield server


def json_run(*args: str, env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    run = cli(*args, "--json", env=env)
    return run, json.loads(run.stdout)


def catalog_rows(out: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(out / "catalog.sqlite") as db:
        return db.execute("SELECT key, kind, study_instance_uid, series_instance_uid, modality, shape, nifti, "
                          "sidecar FROM series ORDER BY key").fetchall()


@pytest.fixture(scope="module")
def from_url(tmp_path_factory: pytest.TempPathFactory, pacs: Orthanc) -> tuple[Path, Any, dict[str, Any]]:
    out = tmp_path_factory.mktemp("from-url")
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(out), env=login())
    return out, run, doc


# --------------------------------------------------------------------------------- ingest URL


def test_ingest_from_dicomweb_gives_what_the_same_files_give_from_a_folder(export: Path, pacs: Orthanc,
                                                                           from_url: Any, tmp_path: Path) -> None:
    url_out, url_run, url_doc = from_url
    folder_out = tmp_path / "from-folder"
    folder_run, folder_doc = json_run("ingest", str(export), "--out", str(folder_out))
    assert folder_run.exit_code == url_run.exit_code == 1, (folder_run.output, url_run.output)  # the bad series
    assert catalog_rows(url_out) == catalog_rows(folder_out) and len(catalog_rows(url_out)) == 3
    for row in catalog_rows(url_out):
        a, b = nib.load(url_out / row[6]), nib.load(folder_out / row[6])
        assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj)) and np.array_equal(a.affine, b.affine)
        side_a, side_b = (json.loads((o / row[7]).read_text()) for o in (url_out, folder_out))
        assert side_a.pop("source_fingerprint") != side_b.pop("source_fingerprint")
        assert side_a == side_b  # transfer syntax included: the stored one came back

    # the bad instance: one line each, the file for a folder, its DICOMweb name for the URL
    bad = uids(export / BAD)
    folder_failed = [i for i in folder_doc["items"] if i["status"] == "failed"]
    url_failed = [i for i in url_doc["items"] if i["status"] == "failed"]
    assert len(folder_failed) == len(url_failed) == 1
    named = Path(folder_failed[0]["item"])
    assert named in bad["files"] and not pydicom.dcmread(named, stop_before_pixels=True).get("ImagePositionPatient")
    sop = str(pydicom.dcmread(named, stop_before_pixels=True).SOPInstanceUID)
    assert url_failed[0]["item"] == f"{pacs.dicomweb}/studies/{bad['study']}/series/{bad['series']}/instances/{sop}"
    assert url_failed[0]["reason"] == folder_failed[0]["reason"] and "ImagePositionPatient" in url_failed[0]["reason"]
    errors = [line for line in url_run.stderr.splitlines() if line.startswith("medsee: error:")]
    assert errors == [f"medsee: error: {url_failed[0]['item']}: {url_failed[0]['reason']}"]
    assert "Traceback" not in url_run.output
    assert not [p for p in url_out.iterdir() if p.name.startswith(".dicomweb-")]  # the private folders are gone


def test_no_credentials_or_patient_attributes_in_outputs_or_logs(export: Path, pacs: Orthanc, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # dicomweb-client, urllib3 and medsee at their most talkative
    out = tmp_path / "out"
    run = cli("ingest", pacs.dicomweb, "--out", str(out), "--json", env=login())
    assert run.exit_code == 1
    patient = set(PATIENT.values()) | {"Testpatient"}
    texts = {"stdout": run.stdout, "stderr": run.stderr, "log": caplog.text,
             "catalog": (out / "catalog.sqlite").read_bytes().decode("latin-1")}
    texts |= {p.name: p.read_text() for p in (out / "series").glob("*.json")}
    for where, text in texts.items():
        assert PASSWORD not in text, where
        for value in patient:
            assert value not in text, (where, value)
    assert "dicom-web" in caplog.text  # the log did see the requests


def test_a_re_run_downloads_nothing_unchanged(from_url: Any, pacs: Orthanc, export: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from medsee_cli.services import dicomweb_ingest

    out, _, first = from_url
    fetched: list[str] = []
    real = dicomweb_ingest.retrieve_series

    def counting(server: Any, series: Any, folder: Path, breaker: Any = None) -> Any:
        fetched.append(series.series_instance_uid)
        return real(server, series, folder, breaker)

    monkeypatch.setattr(dicomweb_ingest, "retrieve_series", counting)
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(out), env=login())
    assert run.exit_code == 1 and doc["written"] == 0 and doc["up_to_date"] == 3 and doc["failed"] == 1
    assert {i["key"] for i in doc["items"] if i["status"] == "up-to-date"} == \
        {i["key"] for i in first["items"] if i["status"] == "written"}
    assert fetched == [uids(export / BAD)["series"]]  # only the series that failed is fetched again


def test_filters_pick_studies_modality_and_date(pacs: Orthanc, export: Path, tmp_path: Path) -> None:
    ct = uids(export / "ct_jpegls-clean")
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(tmp_path / "ct"), "--modality", "ct", env=login())
    assert run.exit_code == 0, run.output
    assert [(i["status"], i["modality"]) for i in doc["items"]] == [("written", "CT")]

    siemens = uids(export / "siemens_jpegll-clean")
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(tmp_path / "two"), "--study", siemens["study"],
                        "--study", ct["study"], env=login())
    assert run.exit_code == 0 and sorted(i["modality"] for i in doc["items"]) == ["CT", "MR"]

    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(tmp_path / "none"), "--since", "30000101", env=login())
    assert run.exit_code == 0 and doc["items"] == []

    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(tmp_path / "missing"), "--study", "1.2.3.4", env=login())
    assert run.exit_code == 1
    assert [(i["item"], i["reason"]) for i in doc["items"]] == [
        (f"{pacs.dicomweb}/studies/1.2.3.4", "no such study on the server")]

    for args, option in ((["--since", "2026-01-01"], "--since"), (["--study", "x.y"], "--study"),
                         (["--modality", "C T"], "--modality")):
        bad = cli("ingest", pacs.dicomweb, "--out", str(tmp_path / "bad"), *args, env=login())
        assert bad.exit_code == 2 and bad.stderr.startswith(f"medsee: error: {option}: "), bad.output
    local = cli("ingest", str(export), "--out", str(tmp_path / "local"), "--modality", "CT")
    assert local.exit_code == 2 and "no source is a URL" in local.stderr


def test_keep_dicom_keeps_each_series_for_segment_and_counts_for_up_to_date(pacs: Orthanc, export: Path,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from medsee_cli.io import load_volume
    from medsee_cli.services import dicomweb_ingest

    ge = uids(export / "ge_native-clean")
    out, keep = tmp_path / "out", tmp_path / "dicom"
    args = ("ingest", pacs.dicomweb, "--out", str(out), "--study", ge["study"], "--keep-dicom", str(keep))
    run, doc = json_run(*args, env=login())
    assert run.exit_code == 0 and doc["written"] == 1, run.output
    kept = keep / ge["study"] / ge["series"]
    assert sorted(p.parent for p in keep.rglob("*.dcm")) == [kept] * len(ge["sops"])
    assert load_volume(kept).refs.slices[0].sop_instance_uid in ge["sops"]  # a DICOM source again
    assert not [p for p in keep.iterdir() if p.name.startswith(".")]

    fetched: list[str] = []
    real = dicomweb_ingest.retrieve_series
    monkeypatch.setattr(dicomweb_ingest, "retrieve_series", lambda server, series, folder, breaker=None: (
        fetched.append(series.series_instance_uid), real(server, series, folder, breaker))[1])
    run, doc = json_run(*args, env=login())
    assert doc["up_to_date"] == 1 and fetched == []
    for path in kept.iterdir():
        path.unlink()
    run, doc = json_run(*args, env=login())
    assert doc["written"] == 1 and fetched == [ge["series"]] and len(list(kept.iterdir())) == len(ge["sops"])
    bad = cli("ingest", str(export), "--out", str(out), "--keep-dicom", str(keep))
    assert bad.exit_code == 2 and bad.stderr.startswith("medsee: error: --keep-dicom: ")


# --------------------------------------------------------------------------------- logins


def test_basic_auth_wrong_or_missing_login_and_credentials_in_the_url(pacs: Orthanc, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    for env in ({ENV_USER: USER, ENV_PASSWORD: "wrong-" + PASSWORD}, {}):
        run = cli("ingest", pacs.dicomweb, "--out", out, env=env)
        assert run.exit_code == 1
        assert run.stderr.splitlines() == [
            f"medsee: error: {pacs.dicomweb}: search failed: HTTP 401 Unauthorized (check the login: "
            f"{ENV_USER} + {ENV_PASSWORD}, {ENV_TOKEN}, or the config file)"]
        assert PASSWORD not in run.output
    with_login = pacs.dicomweb.replace("http://", f"http://{USER}:{PASSWORD}@") + "?PatientID=12345"
    run = cli("ingest", with_login, "--out", out)
    assert run.exit_code == 2 and PASSWORD not in run.output and "12345" not in run.output
    assert run.stderr.startswith(f"medsee: error: {pacs.dicomweb}: credentials in the URL are not accepted")
    run = cli("ingest", pacs.dicomweb, "--out", out, env={ENV_USER: USER, ENV_PASSWORD: PASSWORD, ENV_TOKEN: "t"})
    assert run.exit_code == 2 and run.stderr.startswith(f"medsee: error: {ENV_TOKEN}: set either")


def test_login_from_the_config_file_longest_matching_entry(pacs: Orthanc, export: Path, tmp_path: Path) -> None:
    secret = tmp_path / "pacs-password"
    secret.write_text(PASSWORD + "\n")
    config = tmp_path / "dicomweb.toml"
    config.write_text(f'[network]\nattempts = 2\nbackoff_s = 0.01\n\n'
                      f'[[server]]\nurl = "{pacs.url}"\nuser = "{USER}"\npassword = "not-this-one"\n\n'
                      f'[[server]]\nurl = "{pacs.dicomweb}/"\nuser = "{USER}"\npassword_file = "{secret.name}"\n')
    config.chmod(0o600)
    siemens = uids(export / "siemens_jpegll-clean")
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(tmp_path / "out"), "--study", siemens["study"],
                        env={ENV_CONFIG: str(config)})
    assert run.exit_code == 0 and doc["written"] == 1, run.output
    settings = load_settings({ENV_CONFIG: str(config)})
    assert settings.network.attempts == 2 and settings.warnings == ()


# --------------------------------------------------------------------------------- push


@pytest.fixture(scope="module")
def seg_result(tmp_path_factory: pytest.TempPathFactory, export: Path) -> Path:
    """A result folder with a DICOM-SEG on the GE series (writers only: no model run)."""
    from medsee_cli.io import load_volume
    from medsee_cli.writers import WriterOptions, write_result
    from tests.outputs.conftest import labelmap_for, liver_spleen

    volume = load_volume(export / "ge_native-clean")
    folder = tmp_path_factory.mktemp("result") / "case"
    write_result(volume, labelmap_for(volume.spatial_shape), liver_spleen(), folder,
                 WriterOptions(formats=("nifti", "dicom-seg")))
    return folder


def test_export_push_puts_the_seg_into_its_source_study_once(seg_result: Path, pacs: Orthanc, export: Path,
                                                             from_url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from medsee_cli.pacs import store
    from medsee_cli.services import dicomweb_ingest

    source = uids(export / "ge_native-clean")
    seg = seg_result / "seg.dcm"
    run = cli("export", str(seg_result), "--format", "dicom-seg", "--push", pacs.dicomweb, env=login())
    assert run.exit_code == 0, run.output
    assert run.stdout == f"pushed\t{seg}\n" and run.stderr == ""
    local = pydicom.dcmread(seg, stop_before_pixels=True)

    # read back from the PACS: QIDO finds it in the source study, WADO gives its references
    found = pacs.client.search_for_instances(source["study"], search_filters={"SOPInstanceUID": local.SOPInstanceUID})
    assert len(found) == 1
    back = pacs.client.retrieve_instance(source["study"], str(local.SeriesInstanceUID), str(local.SOPInstanceUID))
    assert back.StudyInstanceUID == source["study"] and back.Modality == "SEG"
    assert [item.SeriesInstanceUID for item in back.ReferencedSeriesSequence] == [source["series"]]
    cited = {ref.ReferencedSOPInstanceUID for ref in back.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert cited == set(source["sops"])
    record = json.loads((seg_result / "pushed.json").read_text())
    assert [(e["destination"], e["sop_instance_uid"], e["study_instance_uid"]) for e in record["pushed"]] == [
        (pacs.dicomweb, str(local.SOPInstanceUID), source["study"])]

    # re-runs push nothing: the record says so; without the record, QIDO does
    stowed: list[str] = []
    real_store = store.store_instance
    monkeypatch.setattr(store, "store_instance", lambda server, ds, **kw: (stowed.append(ds.SOPInstanceUID),
                                                                             real_store(server, ds, **kw)))
    run = cli("export", str(seg_result), "--format", "dicom-seg", "--push", pacs.dicomweb, env=login())
    assert run.exit_code == 0 and run.stdout == f"already-pushed\t{seg}\n"
    (seg_result / "pushed.json").unlink()
    run = cli("export", str(seg_result), "--format", "dicom-seg", "--push", pacs.dicomweb, env=login())
    assert run.exit_code == 0 and run.stdout == f"already-there\t{seg}\n"
    assert stowed == [] and len(json.loads((seg_result / "pushed.json").read_text())["pushed"]) == 1

    # an RTSTRUCT not written yet: written, then pushed
    run = cli("export", str(seg_result), "--format", "rtstruct", "--source", str(export / "ge_native-clean"),
              "--push", pacs.dicomweb, env=login())
    rt = seg_result / "rtstruct.dcm"
    assert run.exit_code == 0 and run.stdout == f"rtstruct\t{rt}\npushed\t{rt}\n", run.output
    assert stowed == [pydicom.dcmread(rt, stop_before_pixels=True).SOPInstanceUID]
    bad = cli("export", str(seg_result), "--format", "png", "--push", pacs.dicomweb, env=login())
    assert bad.exit_code == 2 and bad.stderr.startswith("medsee: error: --push: ")

    # the next ingest from the PACS skips the SEG and RTSTRUCT series without fetching them
    fetched: list[str] = []
    real_retrieve = dicomweb_ingest.retrieve_series
    monkeypatch.setattr(dicomweb_ingest, "retrieve_series",
                        lambda server, series, folder, breaker=None: (fetched.append(series.modality),
                                                                      real_retrieve(server, series, folder, breaker))[1])
    out, _, _ = from_url
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(out), "--study", source["study"], env=login())
    assert run.exit_code == 0 and fetched == []
    assert sorted((i["status"], i["reason"]) for i in doc["items"]) == [
        ("skipped", "not an image series (Modality RTSTRUCT)"), ("skipped", "not an image series (Modality SEG)"),
        ("up-to-date", None)]


# --------------------------------------------------------------------------------- a PACS that goes away


def test_a_pacs_stopped_mid_run_gives_one_line_per_series_and_the_next_run_completes(
        tmp_path: Path, export: Path, seg_result: Path) -> None:
    with running_orthanc(tmp_path / "orthanc") as server:
        for name in ("ge_native-clean", "siemens_jpegll-clean", "ct_jpegls-clean"):
            server.store(sorted((export / name).iterdir()))
        options = IngestOptions(out=tmp_path / "out", network=FAST)

        def kill_at_the_second_series(what: str, done: int, total: int) -> None:
            if what.startswith("series") and done == 1:
                server.kill()

        started = time.monotonic()
        report = ingest([server.dicomweb], options, kill_at_the_second_series)
        took = time.monotonic() - started
        assert [r.status for r in report.results] == ["written", "failed", "failed"]
        first, second = report.results[1:]
        assert first.item.startswith(f"{server.dicomweb}/studies/") and "/series/" in first.item
        assert first.reason == "cannot connect (connection refused) (after 3 tries)"
        assert second.reason == "cannot connect (connection refused) (1 try: the server was unreachable for an " \
                                "earlier item)"
        assert took < 10, took  # two short waits, then one try: a dead PACS does not hold the batch

        seg = tmp_path / "seg.dcm"
        seg.write_bytes((seg_result / "seg.dcm").read_bytes())
        push_options = PushOptions(network=FAST, record=tmp_path / "pushed.json")
        failed = push_instances(server.dicomweb, [seg], push_options)
        assert [(i.status, i.reason) for i in failed.items] == [
            ("failed", f"push to {server.dicomweb} failed: cannot connect (connection refused) (after 3 tries)")]
        assert not (tmp_path / "pushed.json").exists()

        server.start()
        again = ingest([server.dicomweb], options)
        assert again.ok and [r.status for r in again.results] == ["up-to-date", "written", "written"]
        pushed = push_instances(server.dicomweb, [seg], push_options)
        assert [i.status for i in pushed.items] == ["pushed"]
        assert server.has_instance(str(pydicom.dcmread(seg).StudyInstanceUID), str(pushed.items[0].sop_instance_uid))


def test_https_needs_the_private_ca_and_works_with_it(tmp_path: Path, export: Path) -> None:
    from tests.conftest import require_tool
    from tests.orthanc import TlsFront, self_signed_certificate

    cert, key = self_signed_certificate(tmp_path, require_tool("openssl"))
    with running_orthanc(tmp_path / "orthanc") as server, TlsFront(server.port, cert, key) as front:
        server.store(sorted((export / "ct_jpegls-clean").iterdir()))
        url = f"https://127.0.0.1:{front.port}/dicom-web"
        run = cli("ingest", url, "--out", str(tmp_path / "out"))
        assert run.exit_code == 1
        assert run.stderr.splitlines() == [
            f"medsee: error: {url}: search failed: TLS failed (certificate not trusted: self-signed certificate); "
            f"a private CA needs its bundle ({ENV_CA} or the config file's ca_bundle)"]
        run, doc = json_run("ingest", url, "--out", str(tmp_path / "out"), env={ENV_CA: str(cert)})
        assert run.exit_code == 0 and doc["written"] == 1, run.output
        config = tmp_path / "dicomweb.toml"
        config.write_text(f'[[server]]\nurl = "{url}"\nca_bundle = "{cert}"\n')
        run, doc = json_run("ingest", url, "--out", str(tmp_path / "out"), env={ENV_CONFIG: str(config)})
        assert run.exit_code == 0 and doc["up_to_date"] == 1, run.output


def test_a_bearer_token_goes_in_the_session_never_in_a_message() -> None:
    from medsee_cli.pacs.client import Server

    endpoint = endpoint_for("https://pacs.example.org/dicom-web", environ={ENV_TOKEN: "tok-123"})
    with Server(endpoint, NetOptions()) as server:
        assert server.session.headers["Authorization"] == "Bearer tok-123"
        assert server.session.auth is None and "tok-123" not in repr(endpoint)


def test_a_closed_port_fails_fast_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    config = tmp_path / "dicomweb.toml"
    config.write_text("[network]\nattempts = 2\nbackoff_s = 0.01\n")
    run = cli("ingest", url, "--out", str(tmp_path / "out"), env={ENV_CONFIG: str(config)})
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        f"medsee: error: {url}: search failed: cannot connect (connection refused) (after 2 tries)"]


# --------------------------------------------------------------------------------- no server needed


def test_backoff_doubles_is_capped_and_stays_within_the_budget() -> None:
    assert NetOptions(attempts=6, backoff_s=1, backoff_max_s=5, budget_s=10).waits() == [1, 2, 4]
    assert NetOptions(attempts=5, backoff_s=1, backoff_max_s=3, budget_s=100).waits() == [1, 2, 3, 3]
    assert NetOptions(attempts=1).waits() == []
    with pytest.raises(ValueError):
        NetOptions(attempts=0)
    slept: list[float] = []
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise NetworkError("cannot connect (connection refused)", retryable=True, unreachable=True)

    breaker = Breaker()
    options = NetOptions(attempts=3, backoff_s=0.5)
    with pytest.raises(NetworkError, match=r"after 3 tries"):
        with_retries(refused, options, lambda e: None, what="x", breaker=breaker, sleep=slept.append)
    assert slept == [0.5, 1.0] and len(calls) == 3 and breaker.open
    with pytest.raises(NetworkError, match=r"1 try: the server was unreachable"):
        with_retries(refused, options, lambda e: None, what="x", breaker=breaker, sleep=slept.append)
    assert len(calls) == 4 and slept == [0.5, 1.0]
    assert with_retries(lambda: 7, options, lambda e: None, what="x", breaker=breaker) == 7 and not breaker.open

    def forbidden() -> None:
        raise NetworkError("HTTP 403 Forbidden", retryable=False, status=403)

    with pytest.raises(NetworkError, match=r"^HTTP 403 Forbidden$"):
        with_retries(forbidden, options, lambda e: None, what="x", sleep=slept.append)


def test_logins_come_from_the_environment_first_then_the_longest_matching_entry(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[server]]\nurl = "https://pacs.example.org"\ntoken = "outer"\n'
                      '[[server]]\nurl = "https://pacs.example.org/dicom-web"\nuser = "u"\npassword = "p"\n'
                      '[[server]]\nurl = "https://other.example.org/dicom-webx"\ntoken = "x"\n')
    config.chmod(0o644)
    env = {ENV_CONFIG: str(config)}
    inner = endpoint_for("https://pacs.example.org/dicom-web/", environ=env)
    assert (inner.url, inner.auth, inner.user, inner.secret) == ("https://pacs.example.org/dicom-web", "basic", "u", "p")
    assert "secret=" not in repr(inner) and "'p'" not in repr(inner)
    assert endpoint_for("https://PACS.example.org/qido", environ=env).auth == "bearer"
    assert endpoint_for("https://other.example.org/dicom-web", environ=env).auth == "none"  # a prefix, not a path
    assert any("chmod 600" in w for w in inner.warnings)
    from_env = endpoint_for("https://pacs.example.org/dicom-web", environ={**env, ENV_TOKEN: "tok"})
    assert (from_env.auth, from_env.secret, from_env.credentials) == ("bearer", "tok", "environment")
    plain = endpoint_for("http://pacs.example.org/dicom-web", environ={ENV_CONFIG: str(config), ENV_USER: "a",
                                                                       ENV_PASSWORD: "b"})
    assert any("plain http" in w for w in plain.warnings)
    assert endpoint_for("http://127.0.0.1:8042/dicom-web", environ={ENV_USER: "a", ENV_PASSWORD: "b",
                                                                    "XDG_CONFIG_HOME": str(tmp_path)}).warnings == ()


@pytest.mark.parametrize(("text", "option", "fragment"), [
    ('[[server]]\nurl = "https://x"\nuser = "u"\n', "[[server]] #1", "a user needs a password"),
    ('[[server]]\nurl = "https://x"\ntoken = "a"\npassword = "b"\nuser = "u"\n', "[[server]] #1", "either a token"),
    ('[[server]]\nurl = "https://x"\npasswd = "b"\n', "[[server]] #1", "unknown key 'passwd'"),
    ('[network]\nattempts = 0\n', "", "[network]: attempts must be at least 1"),
    ('[network]\nretries = 3\n', "", "unknown key 'retries'"),
    ('server = [', "", "not valid TOML"),
])
def test_config_file_mistakes_are_usage_errors(tmp_path: Path, text: str, option: str, fragment: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(UsageError) as caught:
        endpoint_for("https://x/dicom-web", environ={ENV_CONFIG: str(config)})
    assert caught.value.item.startswith(str(config)) and option in caught.value.item
    assert fragment in caught.value.reason


def test_urls_are_printed_without_login_query_or_fragment(tmp_path: Path) -> None:
    assert public_url("https://u:p@h:1/dicom-web/?PatientID=1#x") == "https://h:1/dicom-web"
    for url, fragment in (("https://u:p@h/dw", "credentials in the URL"), ("https://h/dw?PatientID=9", "no query"),
                          ("ftp://h/dw", "not a DICOMweb base URL"), ("https://h:99999/dw", "not a valid URL")):
        with pytest.raises(UsageError) as caught:
            endpoint_for(url, environ={"XDG_CONFIG_HOME": str(tmp_path)})
        assert fragment in caught.value.reason and "p@" not in str(caught.value) and "PatientID" not in str(caught.value)
    with pytest.raises(UsageError, match="no such file"):
        endpoint_for("https://h/dw", environ={ENV_CONFIG: "/nonexistent/dicomweb.toml"})
    assert SearchFilters(("1.2.3", "1.2.3"), "mr", "20260101") == SearchFilters(("1.2.3",), "MR", "20260101")


class _IgnoresOffset:
    """A QIDO server that sends the same page whatever ``offset`` says, with hostile UIDs in it."""

    def __init__(self) -> None:
        self.calls = 0

    def search_for_studies(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"0020000D": {"Value": ["../../etc"]}}, {"0020000D": {"Value": ["1.2.3"]}}]

    def search_for_series(self, study: str, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"0020000E": {"Value": ["a/../../b"]}},
                {"0020000E": {"Value": ["1.2.3.4"]}, "00080060": {"Value": ["CT"]}, "00201209": {"Value": [3]},
                 "00100010": {"Value": [{"Alphabetic": "Testpatient^Jane"}]}}]


def test_search_pages_stop_when_the_server_ignores_offset_and_unsafe_uids_are_left_out() -> None:
    from types import SimpleNamespace

    from medsee_cli.pacs.search import RemoteSeries, search_series

    client = _IgnoresOffset()
    server = SimpleNamespace(options=FAST, dicomweb=client, name="https://h/dw",
                             resource=lambda study, series=None, instance=None: f"https://h/dw/studies/{study}")
    found = search_series(server, SearchFilters())  # type: ignore[arg-type]
    assert found.series == (RemoteSeries("1.2.3", "1.2.3.4", "CT", None, 3),)
    assert [item for item, _ in found.failures] == ["https://h/dw", "https://h/dw/studies/1.2.3"]
    assert all("cannot be used in a URL or folder name" in why for _, why in found.failures)
    assert client.calls == 4  # two pages each, the second bringing nothing new


# --------------------------------------------------------------------------------- segment --push


def bone_options(out: Path) -> Any:
    """`segment` options on the toy engine (tests/batch/toy.py) with "liver" read as "brighter
    than 100", which finds tissue in these MR series."""
    from dataclasses import dataclass

    from medsee_cli.engine.stream import SliceEngine
    from tests.batch.toy import ToyLoader, ToyTexts, toy_options
    from tests.engine.toy import BrightModel

    class BoneTexts(ToyTexts):
        def vectors(self, texts):  # noqa: ANN001, ANN202
            return np.full((len(texts), 384), 100.0, dtype=np.float32)  # the toy's level: brighter than 100

    @dataclass(frozen=True)
    class BoneLoader(ToyLoader):
        identity: str = "toy-bone@1"

        def open(self, options):  # noqa: ANN001, ANN202
            return SliceEngine(BrightModel(), options), BoneTexts()

    return toy_options(out, loader=BoneLoader())


def test_segment_push_puts_each_cases_seg_into_its_study_once(pacs: Orthanc, export: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch `segment` (toy engine, "liver" read as "brighter than 100" on this MR series) pushes
    its SEG into the source study; a re-run skips the case and pushes nothing; a PACS that refuses the
    login fails that case's push with one line while its outputs stay."""
    from medsee_cli.services.segment_batch import BatchOptions, run_batch

    for name, value in login().items():
        monkeypatch.setenv(name, value)
    source = uids(export / "ge_native-clean")
    out = tmp_path / "results"
    first = run_batch([export / "ge_native-clean"], BatchOptions(bone_options(out), push=pacs.dicomweb))
    (item,) = first.items
    assert item.status == "done" and item.push == "pushed", item
    seg = pydicom.dcmread(next(out.glob("*/seg.dcm")), stop_before_pixels=True)
    found = pacs.client.search_for_instances(source["study"], search_filters={"SOPInstanceUID": seg.SOPInstanceUID})
    assert len(found) == 1 and seg.StudyInstanceUID == source["study"]

    again = run_batch([export / "ge_native-clean"], BatchOptions(bone_options(out), push=pacs.dicomweb))
    assert [(i.status, i.push) for i in again.items] == [("skipped", "already-pushed")]

    monkeypatch.setenv(ENV_PASSWORD, "wrong")
    (next(out.glob("*/pushed.json"))).unlink()
    refused = run_batch([export / "ge_native-clean"], BatchOptions(bone_options(out), push=pacs.dicomweb))
    (bad,) = refused.items
    assert bad.status == "skipped" and (bad.push or "").startswith("failed: ") and "\n" not in (bad.push or "")
    assert int(refused.exit_code) == 1 and (out / next(out.glob("*/seg.dcm")).parent.name / "mask.nii.gz").is_file()


def test_segment_on_the_ingest_folder_reads_each_kept_series_and_pushes_its_seg(
        pacs: Orthanc, export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ingest --keep-dicom, then segment INGEST_DIR --push (issue 16): the catalog case is read from its
    kept DICOM files (recorded relative to the catalog), so its SEG references them and goes into its
    study; once the kept files are pruned, a re-run redoes nothing and a new case says why it gets no SEG."""
    from medsee_cli.services.batch_inputs import list_cases
    from medsee_cli.services.segment_batch import BatchOptions, run_batch

    ge = uids(export / "ge_native-clean")
    out, keep = tmp_path / "ingest", tmp_path / "dicom"
    run, doc = json_run("ingest", pacs.dicomweb, "--out", str(out), "--study", ge["study"], "--keep-dicom", str(keep),
                        env=login())
    assert run.exit_code == 0 and doc["written"] == 1, run.output
    with sqlite3.connect(out / "catalog.sqlite") as db:
        assert db.execute("SELECT folder FROM dicom_files").fetchall() == [(f"../dicom/{ge['study']}/{ge['series']}",)]
    (case,) = list_cases([out])
    assert case.source == (keep / ge["study"] / ge["series"]).resolve() and case.warnings == ()

    for name, value in login().items():
        monkeypatch.setenv(name, value)
    results = tmp_path / "results"
    first = run_batch([out], BatchOptions(bone_options(results), push=pacs.dicomweb))
    (item,) = first.items
    assert (item.case, item.status, item.push) == (case.ident, "done", "pushed"), item
    seg = pydicom.dcmread(results / case.ident / "seg.dcm", stop_before_pixels=True)
    (cited,) = seg.ReferencedSeriesSequence
    assert cited.SeriesInstanceUID == ge["series"] and seg.StudyInstanceUID == ge["study"]
    assert {str(i.ReferencedSOPInstanceUID) for i in cited.ReferencedInstanceSequence} == set(ge["sops"])
    found = pacs.client.search_for_instances(ge["study"], search_filters={"SOPInstanceUID": seg.SOPInstanceUID})
    assert len(found) == 1

    shutil.rmtree(keep / ge["study"])
    (gone,) = list_cases([out])
    assert gone.source == gone.content
    assert gone.warnings == ("no DICOM-SEG: read from its NIfTI; its DICOM folder is gone",)
    again = run_batch([out], BatchOptions(bone_options(results), push=pacs.dicomweb))
    assert [(i.status, i.push) for i in again.items] == [("skipped", "already-pushed")]
