"""`ask --questions FILE.jsonl` as a batch job: item folders, re-runs, bad lines, lock, SIGKILL resume, CLI.

The service tests run the real reasoning (the packaged MiniLM on NumPy) and the toy engine
(tests/ask/questions_toy.py, `AskOptions.loader` seam), so an item costs a fraction of a second.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.errors import UsageError
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.services.ask import AskOptions
from medsee_cli.services.ask_batch import QuestionsOptions, item_count, run_questions
from tests.ask.questions_toy import toy_ask, write_lines
from tests.batch.toy import ToyLoader, ball_ct
from tests.kill_job import kill_after, log_lines

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = ["# nightly questions", {"id": "liver", "question": "where is the liver?"}, "",
             {"question": "show me the spleen"}, {"id": "taxi", "question": "book me a taxi"}]
ITEMS = ["liver", "q0004", "taxi"]  # the spleen line is line 4: its default id
RESULT_FILES = ["answer.json", "boxes.json", "done.json", "labels.json", "mask.nii.gz", "preview.png",
                "provenance.json"]


@pytest.fixture()
def scans(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "Doe_John_12345"  # a folder named after a patient: never in the summary or the log
    folder.mkdir()
    return [ball_ct(folder / "a.nii.gz", (20, 20, 8)), ball_ct(folder / "b.nii.gz", (26, 18, 7))]


def statuses(summary: Path) -> dict[str, str]:
    doc = json.loads(summary.read_text())
    assert doc["schema"] == "medsee.run/1" and doc["command"] == "medsee ask --questions"
    return {item["case"]: item["status"] for item in doc["items"]}


def counted(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> list[int]:
    """Count the calls of ``module.name`` (looked up at call time by the services)."""
    import importlib

    target = importlib.import_module(module)
    real = getattr(target, name)
    calls: list[int] = []

    def wrapper(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


def test_two_inputs_three_questions_then_a_rerun_skips_everything(scans, tmp_path, monkeypatch):
    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS)
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    reads = counted(monkeypatch, "medsee_cli.services.inputs", "read_input")
    encoders = counted(monkeypatch, "medsee_cli.reasoning.encoder", "open_encoder")
    options = QuestionsOptions(toy_ask(out), questions, log=log)

    first = run_questions(scans, options)
    items = [f"{case}/{q}" for case in ("a", "b") for q in ITEMS]
    assert [i.case for i in first.items] == items and first.count("done") == 6 and int(first.exit_code) == 0
    assert statuses(out / "run.json") == {i: "done" for i in items}
    assert len(reads) == 2 and len(encoders) == 1 and len(options.ask.loader.opened) == 1  # once per case / run
    for case in ("a", "b"):
        for q in ("liver", "q0004"):
            folder = out / case / q
            assert sorted(p.name for p in folder.iterdir()) == RESULT_FILES
            answer = json.loads((folder / "answer.json").read_text())
            assert answer["schema"] == "medsee.ask/1" and answer["abstained"] is False
            assert answer["outputs"] == {"mask": "mask.nii.gz", "boxes": "boxes.json", "preview": "preview.png",
                                         "dicom_seg": None}  # file names in the item folder
            record = json.loads((folder / "done.json").read_text())
            assert record["case"] == f"{case}/{q}" and set(record["files"]) == set(RESULT_FILES) - {"done.json"}
        liver, spleen = (json.loads((out / case / q / "answer.json").read_text()) for q in ("liver", "q0004"))
        assert liver["question"] == "where is the liver?" and [f["target"] for f in liver["findings"]] == ["liver"]
        assert spleen["question"] == "show me the spleen" and [f["target"] for f in spleen["findings"]] == ["spleen"]
        taxi = out / case / "taxi"  # an abstention is finished, with no mask files
        assert sorted(p.name for p in taxi.iterdir()) == ["answer.json", "done.json"]
        doc = json.loads((taxi / "answer.json").read_text())
        assert doc["abstained"] is True and doc["findings"] == [] and all(v is None for v in doc["outputs"].values())
    stamp = {i: (out / i / "answer.json").stat().st_mtime_ns for i in items}

    reads.clear(), encoders.clear(), options.ask.loader.opened.clear()
    again = run_questions(scans, options)
    assert again.count("skipped") == 6 and statuses(out / "run.json") == {i: "skipped" for i in items}
    assert reads == [] and encoders == [] and options.ask.loader.opened == []  # nothing read, opened or run
    assert {i: (out / i / "answer.json").stat().st_mtime_ns for i in items} == stamp

    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert {e["event"] for e in events} == {"run-start", "case-start", "case-done", "case-skip", "run-end"}
    assert {e["case"] for e in events} == {None, *items}
    text = log.read_text() + (out / "run.json").read_text() + "".join(
        (out / i / name).read_text() for i in items for name in ("answer.json", "done.json"))
    assert "Doe_John" not in text
    assert str(tmp_path) not in log.read_text() + (out / "run.json").read_text()


def test_progress_names_each_item_and_loads_the_model_once(scans, tmp_path):
    """What a progress display draws (cli/progress_view.py): a step starting each item, by its
    CASE/ID, and the model loaded once for the run."""
    from medsee_cli.engine.progress import LOADING, READING

    steps = []
    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS)
    run_questions(scans, QuestionsOptions(toy_ask(tmp_path / "out"), questions), progress=steps.append)
    assert [s.item for s in steps if s.stage == READING] == [f"{c}/{q}" for c in ("a", "b") for q in ITEMS]
    assert [s.stage for s in steps].count(LOADING) == 1 and steps[-1].stage != READING
    write_lines(questions, [*QUESTIONS, "not json"])
    assert item_count(scans, questions) == 7  # the overall bar's length: 2 x 3 items and a bad line


def test_a_changed_question_redoes_only_its_items(scans, tmp_path):
    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS)
    out = tmp_path / "out"
    run_questions(scans, QuestionsOptions(toy_ask(out), questions))
    stamp = (out / "a" / "liver" / "answer.json").stat().st_mtime_ns

    changed = [*QUESTIONS[:3], {"question": "where is the spleen?"}, QUESTIONS[4]]
    write_lines(questions, changed)
    summary = run_questions(scans, QuestionsOptions(toy_ask(out), questions))
    assert statuses(out / "run.json") == {f"{c}/{q}": "done" if q == "q0004" else "skipped"
                                          for c in ("a", "b") for q in ITEMS}
    assert int(summary.exit_code) == 0
    assert json.loads((out / "b" / "q0004" / "answer.json").read_text())["question"] == "where is the spleen?"
    assert (out / "a" / "liver" / "answer.json").stat().st_mtime_ns == stamp


def test_bad_lines_fail_with_their_line_number_and_the_rest_is_done(scans, tmp_path):
    """Each unusable line is one failure naming its line; a line with an image runs on that
    image only (an input's own case when it names an input); the others run everywhere."""
    a, b = scans
    questions = write_lines(tmp_path / "questions.jsonl", [
        {"id": "liver", "question": "where is the liver?"},
        "{not json",
        {"id": "liver", "question": "where is the spleen?"},
        {"question": "where is the spleen?", "image": "Doe_John_12345/missing.nii.gz"},
        {"question": "where is the spleen?", "image": "Doe_John_12345/b.nii.gz"},
        {"question": "   "},
        {"id": "../up", "question": "where is the liver?"},
        {"question": "where is the liver?", "image": str(a)},
    ])
    summary_path = tmp_path / "summary.json"
    seen: list[str] = []
    result = run_questions([a], QuestionsOptions(toy_ask(tmp_path / "out"), questions, summary=summary_path),
                           lambda item, _: seen.append(item.error))
    assert int(result.exit_code) == 1
    assert statuses(summary_path) == {"line 2": "failed", "line 3": "failed", "line 4": "failed",
                                      "line 6": "failed", "line 7": "failed",
                                      "a/liver": "done", "a/q0008": "done", "b/q0005": "done"}
    reasons = {i["case"]: i["reason"] for i in json.loads(summary_path.read_text())["items"]}
    assert reasons["line 2"].startswith("line 2: not JSON (")
    assert reasons["line 3"] == 'line 3: id "liver" is used by line 1 already'
    assert reasons["line 4"] == "line 4: image: no such file or folder"  # no path in the summary
    assert reasons["line 6"] == 'line 6: has no "question" (a non-empty string)'
    assert reasons["line 7"].startswith('line 7: id "../up" is not a folder name')
    assert f"{questions}:4: Doe_John_12345/missing.nii.gz: no such file or folder" in seen  # the console names it
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["a", "b"]
    assert sorted(p.name for p in (tmp_path / "out" / "b").iterdir()) == ["q0005"]


def test_an_input_that_cannot_be_read_fails_each_of_its_items_and_is_read_once(scans, tmp_path, monkeypatch):
    broken = tmp_path / "Doe_John_12345" / "broken.nii.gz"
    broken.write_bytes(b"not a nifti file")
    reads = counted(monkeypatch, "medsee_cli.services.inputs", "read_input")
    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS[:4])
    seen: list[str] = []
    summary = run_questions([broken, scans[0]], QuestionsOptions(toy_ask(tmp_path / "out"), questions),
                            lambda item, _: seen.append(item.error))
    assert int(summary.exit_code) == 1 and len(reads) == 2  # the broken file once, for both its items
    assert statuses(tmp_path / "out" / "run.json") == {"broken/liver": "failed", "broken/q0004": "failed",
                                                       "a/liver": "done", "a/q0004": "done"}
    reason = "broken: not a readable NIfTI file (ImageFileError: File broken is not a gzip file)"
    assert [i.reason for i in summary.items[:2]] == [reason, reason]  # the case id, not the path
    assert seen[0] == (f"broken/liver: {broken}: not a readable NIfTI file (ImageFileError: File {broken} is not "
                       "a gzip file)")  # the console names the input as given
    assert not (tmp_path / "out" / "broken").exists()


def test_a_second_job_on_the_same_folder_fails_at_once(scans, tmp_path):
    from medsee_cli.io.folder_lock import folder_lock_now

    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS)
    out = tmp_path / "out"
    out.mkdir()
    options = QuestionsOptions(toy_ask(out), questions)
    with folder_lock_now(out):
        with pytest.raises(UsageError, match="in use by another medsee job") as caught:
            run_questions(scans, options)
        assert caught.value.exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == [".medsee.lock"]  # nothing was run or written
    assert run_questions(scans, options).count("done") == 6  # the lock was freed


def test_questions_with_the_same_targets_share_one_engine_run(scans, tmp_path, monkeypatch):
    runs = counted(monkeypatch, "medsee_cli.services.targets", "run_targets")
    questions = write_lines(tmp_path / "questions.jsonl", [
        {"id": "where", "question": "where is the liver?"}, {"id": "show", "question": "show me the liver"},
        {"id": "spleen", "question": "where is the spleen?"}])
    out = tmp_path / "out"
    assert run_questions(scans[:1], QuestionsOptions(toy_ask(out), questions)).count("done") == 3
    assert len(runs) == 2  # liver once for both liver questions, spleen once
    where, show = (json.loads((out / "a" / q / "answer.json").read_text()) for q in ("where", "show"))
    assert where["findings"] == show["findings"] and where["question"] != show["question"]


def test_a_real_checkpoint_reuses_the_reasoners_encoder(tiny_model_dir, tiny_ct, tmp_path, monkeypatch):
    """With a checkpoint (no test loader) the model's target texts use the sentence encoder the
    reasoner opened: one encoder per run (the toy tests show the model is opened once)."""
    from tests.ask.conftest import EVERYTHING

    encoders = counted(monkeypatch, "medsee_cli.reasoning.encoder", "open_encoder")
    engines = counted(monkeypatch, "medsee_cli.engine.loading", "open_engine")
    questions = write_lines(tmp_path / "questions.jsonl", [
        {"id": "liver", "question": "where is the liver?"}, {"id": "taxi", "question": "book me a taxi"}])
    options = AskOptions(out=tmp_path / "out", model=str(tiny_model_dir), engine=replace(EVERYTHING, runtime="torch"))
    summary = run_questions([tiny_ct], QuestionsOptions(options, questions))
    assert summary.count("done") == 2 and len(engines) == 1 and len(encoders) == 1
    answer = json.loads((tmp_path / "out" / "tiny" / "liver" / "answer.json").read_text())
    assert answer["findings"][0]["target"] == "liver" and answer["findings"][0]["present"]  # the gate is wide open


def _job(out: Path, questions: Path, inputs: list[Path]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.ask.questions_toy", str(out), str(questions),
                             *map(str, inputs)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_during(out: Path, questions: Path, inputs: list[Path], start: int, delay: float) -> None:
    """SIGKILL a job ``delay`` seconds after its ``start``-th item began (its log says when)."""
    log = out / "log.jsonl"
    before = log_lines(log)
    kill_after(_job(out, questions, inputs), log, "case-start", start, delay, before)


def _comparable(folder: Path) -> dict[str, object]:
    """An item folder's content: bytes where the writers are deterministic, voxels for the mask,
    JSON without times and run costs."""
    seen: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.name == "mask.nii.gz":
            seen[path.name] = np.asarray(nib.load(path).dataobj).tobytes()  # type: ignore[attr-defined]
        elif path.name in ("provenance.json", "answer.json", "done.json"):
            doc = json.loads(path.read_text())
            doc.pop("created_utc", None)
            doc.pop("engine", None)
            doc.pop("files", None)
            seen[path.name] = doc
        else:
            seen[path.name] = path.read_bytes()
    return seen


def test_killed_at_random_moments_a_rerun_finishes_as_an_uninterrupted_run(tmp_path):
    inputs = [ball_ct(tmp_path / f"case{n}.nii.gz", (14 + 3 * n, 20, 6 + n), shape=(64, 48, 24)) for n in range(3)]
    questions = write_lines(tmp_path / "questions.jsonl", [
        {"id": "liver", "question": "where is the liver?"}, {"id": "spleen", "question": "where is the spleen?"},
        {"id": "kidney", "question": "where is the left kidney?"}])
    reference = tmp_path / "reference"
    job = _job(reference, questions, inputs)
    assert job.wait(timeout=120) == 0, job.stderr.read() if job.stderr else ""
    items = sorted(str(p.parent.relative_to(reference)) for p in reference.glob("*/*/done.json"))
    assert len(items) == 9

    out = tmp_path / "killed"
    rng = random.Random(16)
    finished = []
    for _ in range(3):
        _kill_during(out, questions, inputs, rng.randint(1, 9), rng.uniform(0.0, 0.2))
        finished.append(len(list(out.glob("*/*/done.json"))))
    assert any(0 < n < 9 for n in finished), finished  # some kill came in the middle of the batch
    job = _job(out, questions, inputs)
    assert job.wait(timeout=120) == 0, job.stderr.read() if job.stderr else ""

    assert sorted(str(p.parent.relative_to(out)) for p in out.glob("*/*/done.json")) == items
    for item in items:
        assert _comparable(out / item) == _comparable(reference / item), item
    assert [str(p) for p in out.rglob("*") if ".partial" in p.name] == []
    assert sorted(p.name for p in out.iterdir()) == [".medsee.lock", "case0", "case1", "case2", "log.jsonl", "run.json"]
    doc = json.loads((out / "run.json").read_text())
    assert doc["failed"] == 0 and doc["done"] + doc["skipped"] == 9
    for line in (out / "log.jsonl").read_text().splitlines():
        json.loads(line)  # whole lines only, whatever moment the kills came at


def _medsee(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medsee_cli", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=600)  # a hang guard, not a speed check


def test_the_command_line_runs_a_question_file_and_a_rerun_skips_it(tiny_model_dir, tiny_ct, tmp_path):
    """`medsee ask INPUT --questions FILE --out DIR` with a real (random-head) checkpoint: the
    medsee.ask-questions/1 document, the item folders, the log; then a re-run's console lines."""
    questions = write_lines(tmp_path / "questions.jsonl", [
        {"id": "liver", "question": "where is the liver?"}, {"id": "taxi", "question": "book me a taxi"}, "oops"])
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    common = [str(tiny_ct), "--questions", str(questions), "--out", str(out), "--model", str(tiny_model_dir),
              "--device", "cpu", "--log", str(log)]
    run = _medsee("ask", *common, "--json")
    assert run.returncode == 1, run.stderr  # the bad line fails; the others are done
    assert run.stderr.splitlines() == [f"medsee: error: {questions}:3: not JSON (Expecting value: line 1 column 1 "
                                       "(char 0))"]
    doc = json.loads(run.stdout)
    assert doc["schema"] == "medsee.ask-questions/1" and doc["summary"] == str(out / "run.json")
    assert [(i["item"], i["ok"], i["skipped"]) for i in doc["items"]] == [
        ("line 3", False, False), ("tiny/liver", True, False), ("tiny/taxi", True, False)]
    liver = doc["items"][1]
    assert liver["folder"] == str(out / "tiny" / "liver") and liver["answer"]["schema"] == "medsee.ask/1"
    assert [f["target"] for f in liver["answer"]["findings"]] == ["liver"]
    assert liver["answer"] == json.loads((out / "tiny" / "liver" / "answer.json").read_text())
    assert (out / "tiny" / "liver" / "mask.nii.gz").is_file() and (out / "tiny" / "liver" / "done.json").is_file()
    assert doc["items"][2]["answer"]["abstained"] is True
    assert statuses(out / "run.json") == {"line 3": "failed", "tiny/liver": "done", "tiny/taxi": "done"}

    again = _medsee("ask", *common)
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1
    assert again.stdout.splitlines() == [f"tiny/liver: skipped (finished earlier) -> {out / 'tiny' / 'liver'}",
                                         f"tiny/taxi: skipped (finished earlier) -> {out / 'tiny' / 'taxi'}"]
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events.count("run-start") == 2 and events.count("case-done") == 2 and events.count("case-skip") == 2


USAGE = [
    (["{image}", "--questions", "{q}"], "--questions: needs --out DIR (one folder per case and question)"),
    (["{image}", "where is the liver?", "--questions", "{q}", "--out", "{out}"],
     "where is the liver?: no such file or folder (with --questions every argument is an INPUT; the questions go "
     "in the file)"),
    (["{image}", "--questions", "{missing}", "--out", "{out}"],
     "--questions: {missing} cannot be read (No such file or directory)"),
    (["{image}", "where is the liver?", "--log", "{out}/log.jsonl"], "--log: only with --questions FILE"),
    ([], "IMAGE: missing argument (see 'medsee ask --help')"),
    (["{image}", "where is the liver?", "extra"], "extra: unexpected extra argument: one IMAGE and one QUESTION "
                                                 "(put the question in quotes), or --questions FILE for many"),
]


@pytest.mark.parametrize(("args", "line"), USAGE, ids=[" ".join(a) or "nothing" for a, _ in USAGE])
def test_usage_errors_are_one_line_exit_2_before_any_work(tiny_ct, tmp_path, args, line):
    questions = write_lines(tmp_path / "questions.jsonl", [{"question": "where is the liver?"}])
    names = {"image": str(tiny_ct), "q": str(questions), "out": str(tmp_path / "out"),
             "missing": str(tmp_path / "missing.jsonl")}
    run = _medsee("ask", *(a.format(**names) for a in args))
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == ["medsee: error: " + line.format(**names)] and run.stdout == ""
    assert not (tmp_path / "out").exists()


def test_a_busy_output_folder_is_a_usage_error_at_once(tiny_ct, tmp_path):
    from medsee_cli.io.folder_lock import folder_lock_now

    questions = write_lines(tmp_path / "questions.jsonl", [{"question": "where is the liver?"}])
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock_now(out):
        run = _medsee("ask", str(tiny_ct), "--questions", str(questions), "--out", str(out))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [f"medsee: error: --out: {out} is in use by another medsee job "
                                       f"({os.getpid()} {socket.gethostname()}); run again when it has finished"]
    assert sorted(p.name for p in out.iterdir()) == [".medsee.lock"]


@dataclass(frozen=True)
class BrokenLoader(ToyLoader):
    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        from medsee_cli.model.errors import CheckpointError

        raise CheckpointError("toy", "checkpoint is damaged")


def test_a_model_that_cannot_open_ends_the_run_with_its_own_error(scans, tmp_path):
    """Not one failed item per question: the checkpoint's error (exit 5) ends the run, as in `segment`."""
    from medsee_cli.errors import ExitCode, MedseeError

    questions = write_lines(tmp_path / "questions.jsonl", QUESTIONS)
    options = QuestionsOptions(toy_ask(tmp_path / "out", loader=BrokenLoader()), questions)
    with pytest.raises(MedseeError, match="checkpoint is damaged") as raised:
        run_questions(scans, options)
    assert raised.value.exit_code == ExitCode.CHECKPOINT
