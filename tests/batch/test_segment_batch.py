"""`segment` as a batch job: catalog cases, idempotent re-runs, summary, lock, log, SIGKILL resume.

Runs the real services on the toy engine (tests/batch/toy.py, `ModelLoader` seam) so a case
costs a fraction of a second; the subprocess runs are `python -m tests.batch.toy`.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.errors import UsageError
from medsee_cli.services.segment_batch import BatchOptions, run_batch
from tests.batch.toy import ball_ct, comparable, toy_options
from tests.kill_job import kill_after, log_lines

REPO = Path(__file__).resolve().parents[2]
CASE_FILES = ["boxes.json", "done.json", "labels.json", "mask.nii.gz", "preview.png", "provenance.json"]


def ingested(sources: list[Path], out: Path) -> Path:
    from medsee_cli.services.ingest import IngestOptions, ingest

    report = ingest(sources, IngestOptions(out=out, workers=1))
    assert report.ok, report.to_dict()
    return out


def statuses(summary_path: Path) -> dict[str, str]:
    doc = json.loads(summary_path.read_text())
    assert doc["schema"] == "medsee.run/1"
    return {item["case"]: item["status"] for item in doc["items"]}


def test_catalog_series_are_cases_and_a_rerun_skips_what_is_finished(shared_data, tmp_path):
    """Real series through `ingest`: one case per catalog key; a re-run reads inputs but runs
    nothing; changed options redo every case; a changed input redoes that case only."""
    patient = tmp_path / "Doe_John_12345"  # a folder named after a patient: never in outputs or logs
    patient.mkdir()
    (patient / "ct.nii.gz").write_bytes((shared_data / "ct/patient_c_unlabelled/ct.nii.gz").read_bytes())
    (patient / "mr.nii.gz").write_bytes((shared_data / "mr/patient_mr/mr.nii.gz").read_bytes())
    ingest_dir = ingested([patient], tmp_path / "ingest")
    out, log = tmp_path / "results", tmp_path / "log.jsonl"

    first = run_batch([ingest_dir], BatchOptions(toy_options(out), log=log))
    keys = sorted(p.stem[: -len(".nii")] for p in (ingest_dir / "series").glob("*.nii.gz"))
    assert sorted(i.case for i in first.items) == keys and first.count("done") == 2 and int(first.exit_code) == 0
    for key in keys:
        assert sorted(p.name for p in (out / key).iterdir()) == CASE_FILES
        record = json.loads((out / key / "done.json").read_text())
        assert record["schema"] == "medsee.case-done/1" and set(record["files"]) == set(CASE_FILES) - {"done.json"}
    assert statuses(out / "run.json") == {k: "done" for k in keys}
    stamp = {k: (out / k / "mask.nii.gz").stat().st_mtime_ns for k in keys}

    again = run_batch([ingest_dir], BatchOptions(toy_options(out), log=log))
    assert again.count("skipped") == 2 and statuses(out / "run.json") == {k: "skipped" for k in keys}
    assert {k: (out / k / "mask.nii.gz").stat().st_mtime_ns for k in keys} == stamp

    changed = run_batch([ingest_dir], BatchOptions(toy_options(out, targets=("liver", "spleen")), log=log))
    assert changed.count("done") == 2
    assert [lab["name"] for lab in json.loads((out / keys[0] / "labels.json").read_text())["labels"]] == ["liver", "spleen"]

    (out / keys[1] / "preview.png").write_bytes(b"damaged")  # a damaged output is not finished
    repaired = run_batch([ingest_dir], BatchOptions(toy_options(out, targets=("liver", "spleen")), log=log))
    assert statuses(out / "run.json") == {keys[0]: "skipped", keys[1]: "done"} and repaired.exit_code == 0

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {e["event"] for e in lines} >= {"run-start", "case-start", "case-done", "case-skip", "run-end"}
    assert all(e["case"] in (None, *keys) for e in lines)
    text = log.read_text() + (out / "run.json").read_text() + "".join(
        (out / k / n).read_text() for k in keys for n in ("done.json", "provenance.json", "boxes.json"))
    assert "Doe_John" not in text and str(tmp_path) not in text


def test_failures_are_listed_with_one_line_and_exit_1(tmp_path):
    good = ball_ct(tmp_path / "good.nii.gz", (20, 20, 8))
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti file")
    summary = tmp_path / "summary.json"
    result = run_batch([bad, good], BatchOptions(toy_options(tmp_path / "out"), summary=summary))
    assert int(result.exit_code) == 1 and statuses(summary) == {"broken": "failed", "good": "done"}
    reason = json.loads(summary.read_text())["items"][0]["reason"]
    assert reason == "broken: not a readable NIfTI file (ImageFileError: File broken is not a gzip file)"
    assert not (tmp_path / "out" / "broken").exists()


def test_a_folder_not_made_by_a_batch_needs_overwrite(tmp_path):
    image = ball_ct(tmp_path / "ct.nii.gz", (20, 20, 8))
    (tmp_path / "out" / "ct").mkdir(parents=True)
    (tmp_path / "out" / "ct" / "provenance.json").write_text("{}")
    kept = run_batch([image], BatchOptions(toy_options(tmp_path / "out")))
    assert kept.items[0].status == "failed" and "exists already" in kept.items[0].reason
    done = run_batch([image], BatchOptions(toy_options(tmp_path / "out", overwrite=True)))
    assert done.items[0].status == "done" and (tmp_path / "out" / "ct" / "done.json").is_file()


def test_a_second_job_on_the_same_folder_fails_at_once(tmp_path):
    from medsee_cli.io.folder_lock import folder_lock_now

    image = ball_ct(tmp_path / "ct.nii.gz", (20, 20, 8))
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock_now(out):
        with pytest.raises(UsageError, match="in use by another medsee job"):
            run_batch([image], BatchOptions(toy_options(out)))
    assert not (out / "ct").exists()
    assert run_batch([image], BatchOptions(toy_options(out))).count("done") == 1  # the lock was freed


def _job(out: Path, inputs: list[Path]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.batch.toy", str(out), *map(str, inputs)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_during(out: Path, inputs: list[Path], start: int, delay: float) -> None:
    """SIGKILL a job ``delay`` seconds after its ``start``-th case began (its log says when)."""
    log = out / "log.jsonl"
    kill_after(_job(out, inputs), log, "case-start", start, delay, log_lines(log))


def _leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.endswith(".partial") or ".partial" in p.name]


@pytest.mark.parametrize("seed", [16, 41])
def test_killed_at_random_moments_a_rerun_finishes_as_an_uninterrupted_run(tmp_path, seed):
    inputs = [ball_ct(tmp_path / f"case{n}.nii.gz", (14 + 3 * (n % 5), 20, 6 + n % 5), shape=(64, 48, 24))
              for n in range(8)]
    reference = tmp_path / "reference"
    job = _job(reference, inputs)
    assert job.wait(timeout=600) == 0, job.stderr.read() if job.stderr else ""

    out = tmp_path / "killed"
    rng = random.Random(seed)
    finished = []
    for _ in range(4):
        _kill_during(out, inputs, rng.randint(1, 6), rng.uniform(0.0, 0.15))
        finished.append(sum(1 for p in out.glob("case*/done.json")))
    assert any(0 < n < 8 for n in finished), finished  # some kill came in the middle of the batch
    job = _job(out, inputs)
    assert job.wait(timeout=600) == 0, job.stderr.read() if job.stderr else ""

    cases = sorted(p.name for p in reference.iterdir() if p.is_dir())
    assert cases == [f"case{n}" for n in range(8)]
    assert all(np.asarray(nib.load(reference / c / "mask.nii.gz").dataobj).any()
               for c in cases)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == cases
    for case in cases:
        assert comparable(out / case) == comparable(reference / case), case
    assert _leftovers(out) == [] and _leftovers(reference) == []
    doc = json.loads((out / "run.json").read_text())
    assert doc["failed"] == 0 and doc["done"] + doc["skipped"] == 8
    for line in (out / "log.jsonl").read_text().splitlines():
        json.loads(line)  # whole lines only, whatever moment the kills came at
