"""`medsee ask INPUT... --questions FILE.jsonl --out DIR`: the console side of a question-file batch.

One call to `services.ask_batch.run_questions` plus rendering, as `segment` renders its batch:
one line per item on stdout (``CASE/ID: what was found -> OUT/CASE/ID``), one ``medsee: error:``
line per failed item or bad line on stderr, or with ``--json`` one ``medsee.ask-questions/1``
document; a progress display (per item and overall) on a terminal only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from medsee_cli.cli.boundary import error_line, warning_line
from medsee_cli.errors import UsageError

if TYPE_CHECKING:
    from medsee_cli.services.ask import AskOptions
    from medsee_cli.services.ask_items import ItemResult
    from medsee_cli.services.run_summary import RunItem

SCHEMA = "medsee.ask-questions/1"


def run_question_file(inputs: list[str], questions: Path, options: AskOptions, summary: Optional[Path],
                      log: Optional[Path], json_output: bool) -> None:
    """Run the batch and print it; exits with the batch's code (`ask_batch.exit_code`)."""
    from medsee_cli.cli.progress_view import progress_view, wanted
    from medsee_cli.services.ask_batch import QuestionsOptions, exit_code, item_count, run_questions

    if options.out is None:
        raise UsageError("--questions", "needs --out DIR (one folder per case and question)")
    for given in inputs:
        if not Path(given).exists():
            raise UsageError(given, "no such file or folder (with --questions every argument is an INPUT; "
                                    "the questions go in the file)")
    batch = QuestionsOptions(options, questions, summary=summary, log=log)
    results: list[ItemResult] = []

    def show(result: ItemResult, item: RunItem) -> None:
        view.case_done()
        results.append(result)
        if not result.ok:
            error_line(result.error)
            return
        for text in result.warnings:
            warning_line(f"{result.image}: {text}")
        if not json_output:
            print(f"{result.item}: {_found(result)} -> {result.folder}")

    drawn = wanted(json_output)
    with progress_view(drawn, cases=item_count(inputs, questions) if drawn else 0) as view:
        run_questions(inputs, batch, show, view)
    if json_output:
        warnings = [f"{r.image}: {text}" for r in results for text in r.warnings]
        print(json.dumps({"schema": SCHEMA, "out": str(options.out), "summary": str(batch.summary_path),
                          "items": [r.to_dict() for r in results], "warnings": warnings}, indent=2))
    code = exit_code(results)
    if code:
        raise typer.Exit(int(code))


def _found(result: ItemResult) -> str:
    """What an item's answer found, in a few words."""
    if result.skipped:
        return "skipped (finished earlier)"
    doc: dict[str, Any] = result.answer or {}
    if doc.get("abstained"):
        return "no target to look for"
    findings = doc.get("findings") or []
    if not findings:
        return "nothing segmented (see answer.json)"
    return ", ".join(f"{f['target']} {f['volume_ml']:.1f} mL" if f["present"] else f"{f['target']} not found"
                     for f in findings)
