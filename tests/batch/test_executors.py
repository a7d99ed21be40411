"""How a `segment` batch's cases are run: the local pipeline (``--workers``) and Ray actors.

Both must give the files a one-thread run gives, byte for byte (provenance's time apart), in
the cases' order, with one failure line per bad case and the model opened once per process.
Ray runs for real: a local Ray with two worker processes on this machine.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.errors import UsageError
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.services.execution import Execution
from medsee_cli.services.segment_batch import BatchOptions, run_batch
from tests.batch.toy import ToyLoader, ball_ct, comparable, toy_options

REPO = Path(__file__).resolve().parents[2]


def batch_inputs(folder: Path) -> list[Path]:
    """Five real-looking cases and, in the middle, a file that is not an image."""
    folder.mkdir()
    inputs = [ball_ct(folder / f"case{n}.nii.gz", (14 + 3 * n, 20, 6 + n), shape=(64, 48, 24)) for n in range(5)]
    broken = folder / "broken.nii.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    return inputs[:2] + [broken] + inputs[2:]


def run(inputs: list[Path], out: Path, execution: Execution, **changes: object):
    return run_batch(inputs, BatchOptions(toy_options(out, execution=execution, **changes)))


def results(out: Path) -> dict[str, dict[str, object]]:
    return {p.name: comparable(p) for p in sorted(out.iterdir()) if p.is_dir()}


def items(out: Path) -> list[tuple[str, str]]:
    return [(i["case"], i["status"]) for i in json.loads((out / "run.json").read_text())["items"]]


@dataclass(frozen=True)
class CountingLoader(ToyLoader):
    """The toy model; counts how often it is opened and on which threads cases are read."""

    opened: list[str] = None  # type: ignore[assignment]

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        self.opened.append(threading.current_thread().name)
        return super().open(options)


def test_workers_give_the_files_of_a_one_thread_run_in_order(tmp_path):
    inputs = batch_inputs(tmp_path / "in")
    one = run(inputs, tmp_path / "one", Execution(workers=1))
    opened: list[str] = []
    many = run(inputs, tmp_path / "many", Execution(workers=3), loader=CountingLoader(opened=opened))
    assert opened == [threading.current_thread().name]  # the model: once, on the calling thread
    assert results(tmp_path / "many") == results(tmp_path / "one")
    assert sorted(results(tmp_path / "one")) == [f"case{n}" for n in range(5)]
    assert items(tmp_path / "many") == items(tmp_path / "one")  # the cases' order, failures in place
    assert [s for _, s in items(tmp_path / "one")] == ["done", "done", "failed", "done", "done", "done"]
    assert one.count("failed") == many.count("failed") == 1
    failed = [i for i in json.loads((tmp_path / "many" / "run.json").read_text())["items"] if i["status"] == "failed"]
    assert failed[0]["case"] == "broken" and "broken" in failed[0]["reason"]
    again = run(inputs, tmp_path / "many", Execution(workers=3))  # what a one-thread run made is finished work
    assert again.count("skipped") == 5 and again.count("done") == 0


@dataclass(frozen=True)
class KeptLoader(ToyLoader):
    """The toy model, kept where the test can see what reached its encoder."""

    models: list[object] = None  # type: ignore[assignment]

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        engine, texts = super().open(options)
        self.models.append(engine.model)
        return engine, texts


def test_cases_run_together_share_encoder_batches_and_give_the_same_files(tmp_path):
    inputs = batch_inputs(tmp_path / "in")
    run(inputs, tmp_path / "one", Execution())
    models: list[object] = []
    together = run(inputs, tmp_path / "together", Execution(workers=2, cases_at_once=3),
                   loader=KeptLoader(models=models))
    assert results(tmp_path / "together") == results(tmp_path / "one")
    assert items(tmp_path / "together") == items(tmp_path / "one")
    assert together.count("done") == 5 and together.count("failed") == 1
    assert len(models) == 1  # one model for the three threads
    sizes = models[0].encoded  # type: ignore[attr-defined]
    assert max(sizes) >= 2  # one forward pass held slices of several cases (each case asks for 1 at a time)


def test_a_case_failing_while_it_is_written_costs_only_that_case(tmp_path, monkeypatch):
    from medsee_cli.services import segment_case

    inputs = batch_inputs(tmp_path / "in")
    real = segment_case.CaseRunner._write

    def flaky(self, found):
        if found.ready.case.ident == "case3":
            raise OSError(28, "No space left on device")
        return real(self, found)

    monkeypatch.setattr(segment_case.CaseRunner, "_write", flaky)
    summary = run(inputs, tmp_path / "out", Execution(workers=2))
    assert [s for _, s in items(tmp_path / "out")] == ["done", "done", "failed", "done", "failed", "done"]
    assert summary.count("done") == 4
    assert not (tmp_path / "out" / "case3").exists()  # nothing half-written
    assert [p.name for p in (tmp_path / "out").iterdir() if ".partial" in p.name] == []


def test_execution_options_are_checked_before_any_work(tmp_path):
    image = ball_ct(tmp_path / "a.nii.gz", (20, 20, 8))
    for execution, option in [(Execution(workers=0), "--workers"), (Execution(executor="dask"), "--executor"),
                              (Execution(address="auto"), "--ray-address"),
                              (Execution(gpus_per_worker=1.0), "--gpus-per-worker"),
                              (Execution(cases_at_once=0), "--cases-at-once"),
                              (Execution(executor="ray", cases_at_once=2), "--cases-at-once")]:
        with pytest.raises(UsageError, match=option):
            run([image], tmp_path / "out", execution)
        assert not (tmp_path / "out").exists()


def test_cli_workers_and_executor_options(tmp_path):
    from typer.testing import CliRunner

    from medsee_cli.cli.app import app

    image = ball_ct(tmp_path / "a.nii.gz", (20, 20, 8))
    result = CliRunner().invoke(app, ["segment", str(image), "--target", "liver", "--out", str(tmp_path / "out"),
                                      "--executor", "local", "--ray-address", "auto"])
    assert result.exit_code == 2 and "--ray-address: applies only with --executor ray" in result.output
    result = CliRunner().invoke(app, ["segment", str(image), "--target", "liver", "--out", str(tmp_path / "out"),
                                      "--executor", "spark"])
    assert result.exit_code == 2 and "unknown executor 'spark'" in result.output


@pytest.fixture(scope="module")
def local_ray():
    """A Ray on this machine with room for two worker processes; they import the tests' toy
    model, so they get the repository on their path."""
    ray = pytest.importorskip("ray")
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), path] if path else [str(REPO)])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield ray
    finally:
        ray.shutdown()
        if path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = path


def test_ray_workers_write_the_files_of_a_local_run(tmp_path, local_ray):
    inputs = batch_inputs(tmp_path / "in")
    run(inputs, tmp_path / "local", Execution(workers=1))
    summary = run(inputs, tmp_path / "ray", Execution(executor="ray", workers=2))
    assert results(tmp_path / "ray") == results(tmp_path / "local")
    assert items(tmp_path / "ray") == items(tmp_path / "local")
    assert summary.count("done") == 5 and summary.count("failed") == 1
    assert [p.name for p in (tmp_path / "ray").iterdir() if ".partial" in p.name] == []  # actors cleaned up
    local_again = run(inputs, tmp_path / "ray", Execution(workers=2))  # one key, whatever ran the case
    assert local_again.count("skipped") == 5
    ray_again = run(inputs, tmp_path / "local", Execution(executor="ray", workers=2))
    assert ray_again.count("skipped") == 5


def test_ray_cases_carry_their_findings_without_voxel_masks(tmp_path, local_ray):
    from medsee_cli.services.segment import segment

    inputs = batch_inputs(tmp_path / "in")[:2]
    options = toy_options(tmp_path / "out", execution=Execution(executor="ray", workers=2))
    (tmp_path / "out").mkdir()
    cases = list(segment(inputs, options))
    assert [c.case_id for c in cases] == ["case0", "case1"]
    finding = cases[0].findings[0]
    assert finding.present and finding.region is None and finding.volume_ml > 0
    document = cases[0].to_dict()["findings"][0]
    assert document["voxels"] == finding.voxels > 0 and document["measurements"]["size_mm"] == finding.size_mm


def test_a_model_that_cannot_open_on_a_ray_worker_ends_the_batch(tmp_path, local_ray):
    from medsee_cli.errors import ExitCode, MedseeError

    inputs = batch_inputs(tmp_path / "in")[:2]
    with pytest.raises(MedseeError, match="checkpoint is damaged") as raised:
        run(inputs, tmp_path / "out", Execution(executor="ray", workers=1), loader=BrokenLoader())
    assert raised.value.exit_code == ExitCode.CHECKPOINT


@dataclass(frozen=True)
class BrokenLoader(ToyLoader):
    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        from medsee_cli.model.errors import CheckpointError

        raise CheckpointError("toy", "checkpoint is damaged")


def test_a_ray_job_killed_in_the_middle_finishes_on_a_rerun(tmp_path, local_ray):
    """SIGKILL the driver while its actors are busy; the re-run (Ray again) removes what the
    actors left half-done and gives the files of an uninterrupted local run. The kill waits for
    finished case folders, not for the log: the log follows the cases' order, so one slow first
    case holds back every later line while the other actor finishes the rest."""
    import subprocess
    import sys

    from tests.kill_job import kill_when

    inputs = [ball_ct(tmp_path / f"c{n:02d}.nii.gz", (14 + 3 * (n % 5), 20, 6 + n % 5), shape=(64, 48, 24))
              for n in range(16)]
    run(inputs, tmp_path / "local", Execution())
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def job() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "tests.batch.toy", "--ray", str(out), *map(str, inputs)],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    kill_when(job(), lambda: sum(1 for _ in out.glob("c*/done.json")) >= 3)
    finished = sum(1 for p in out.glob("c*/done.json"))
    assert 3 <= finished < 16, finished  # the kill came in the middle
    again = job()
    assert again.wait(timeout=600) == 0, again.stderr.read() if again.stderr else ""
    assert results(out) == results(tmp_path / "local")
    assert [p.name for p in out.iterdir() if ".partial" in p.name] == []
    doc = json.loads((out / "run.json").read_text())
    assert doc["failed"] == 0 and doc["done"] + doc["skipped"] == 16 and doc["skipped"] >= finished
