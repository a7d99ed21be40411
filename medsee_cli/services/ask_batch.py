"""``ask --questions FILE.jsonl``: a question file over many inputs, as a batch job.

The batch semantics are `segment`'s, from the same pieces: one job per output folder
(`job_lock`: a busy OUT is a usage error at once), a JSON-lines event log without patient
identifiers (`run_log`), the run summary ``OUT/run.json`` (`run_summary`, ``medsee.run/1``),
and items that are skipped when finished, built in private staging folders and swapped in with
their completion record last (`ask_items`), so a re-run skips finished items and a killed run
leaves nothing half-written. Which line runs on which case is `question_work`.

The encoder, reasoner and model are opened once per run (`ask.AskSession`). Lines that cannot
run are reported first, one failure each; then the items, case by case, in file order. A
failed item is that item's failure with one reason and the others go on; the model failing to
open ends the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from medsee_cli.engine.progress import Progress, silent
from medsee_cli.errors import ExitCode, UsageError, items_exit
from medsee_cli.services.ask import AskOptions
from medsee_cli.services.ask_items import ItemResult
from medsee_cli.services.run_log import RunLog
from medsee_cli.services.run_summary import RunItem, RunSummary

if TYPE_CHECKING:
    from medsee_cli.services.question_file import BadLine, QuestionFile

SUMMARY_NAME = "run.json"
COMMAND = "medsee ask --questions"


@dataclass(frozen=True)
class QuestionsOptions:
    """``ask.out`` is the batch folder (required); ``summary``: default ``OUT/run.json``;
    ``log``: JSON lines appended (None: no log file)."""

    ask: AskOptions
    questions: Path
    summary: Optional[Path] = None
    log: Optional[Path] = None

    @property
    def out(self) -> Path:
        if self.ask.out is None:
            raise UsageError("--questions", "needs --out DIR (one folder per case and question)")
        return Path(self.ask.out)

    @property
    def summary_path(self) -> Path:
        return self.summary or self.out / SUMMARY_NAME


Listener = Callable[[ItemResult, RunItem], None]  # the console's view of each finished item


def run_questions(inputs: Sequence[str | Path], options: QuestionsOptions, listener: Optional[Listener] = None,
                  progress: Progress = silent) -> RunSummary:
    """Run every line of the question file on its cases under the folder's lock; returns the
    summary it wrote. Usage errors (no ``out``, an unreadable file, a bad model, a busy folder)
    come before any work; lines that cannot run are listed first, then the items in order."""
    from medsee_cli.services.ask import AskSession
    from medsee_cli.services.ask_items import ItemRunner
    from medsee_cli.services.job_lock import job_lock
    from medsee_cli.services.question_file import read_questions
    from medsee_cli.services.question_work import plan_work

    out = check_questions(options)
    questions = read_questions(options.questions)
    session = AskSession(options.ask, progress)
    identity = session.loader.identity  # a missing or damaged checkpoint config: before any work
    summary = RunSummary(COMMAND)
    results: list[ItemResult] = []
    with job_lock(out), RunLog(options.log) as events:
        work, nowhere = plan_work(inputs, questions)
        bad = sorted([*questions.bad, *nowhere], key=lambda b: b.line)
        events.event("run-start", inputs=len(inputs), questions=len(questions.lines), bad_lines=len(bad))
        items = ItemRunner(options.ask, out, session, identity, events, progress)
        for result in itertools.chain((_bad_line(line, questions, events) for line in bad), items.run(work)):
            item = result.summary_item()
            summary.add(item)
            results.append(result)
            if listener is not None:
                listener(result, item)
        summary.write(options.summary_path)
        events.event("run-end", done=summary.count("done"), skipped=summary.count("skipped"),
                     failed=summary.count("failed"), exit_code=int(exit_code(results)))
    return summary


def item_count(inputs: Sequence[str | Path], questions: Path) -> int:
    """How many items (bad lines included) a run of ``questions`` over ``inputs`` reports: the
    length of a progress display's overall bar."""
    from medsee_cli.services.question_file import read_questions
    from medsee_cli.services.question_work import plan_work

    parsed = read_questions(questions)
    work, nowhere = plan_work(inputs, parsed)
    return len(parsed.bad) + len(nowhere) + sum(len(w.lines) for w in work)


def check_questions(options: QuestionsOptions) -> Path:
    """The usage errors of the options themselves, before anything is read or written: OUT."""
    from medsee_cli.writers.options import WriterOptions
    from medsee_cli.writers.result import check_out_dir

    out = options.out
    if options.ask.series is not None:
        raise UsageError("--series", "not with --questions (give an ingest folder: each of its series is a case)")
    check_out_dir(out, WriterOptions(formats=(), overwrite=True))
    return out


def exit_code(results: Sequence[ItemResult]) -> ExitCode:
    """1 when an item failed (3 when every failure is an existing folder not made by a batch,
    as for `segment`), 6 when every item was done but an output could not be made, else 0."""
    return items_exit((r.ok, r.exit_code, bool(r.warnings)) for r in results)


def _bad_line(line: BadLine, questions: QuestionFile, events: RunLog) -> ItemResult:
    events.event("case-fail", line.item, reason=line.private())
    return ItemResult(line.item, "", False, line.console(questions.path), line.private(), ExitCode.ITEMS_FAILED)
