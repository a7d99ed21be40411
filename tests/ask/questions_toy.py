"""`ask --questions` on the toy engine (tests/batch/toy.py): the real services, no real model.

Run as a module it is a question-file job a test can kill:
``python -m tests.ask.questions_toy OUT QUESTIONS INPUT...`` (log in ``OUT/log.jsonl``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medsee_cli.engine.options import EngineOptions
from medsee_cli.engine.stream import SliceEngine
from medsee_cli.reasoning.target_text import TargetTexts
from medsee_cli.services.ask import AskOptions
from medsee_cli.services.ask_batch import QuestionsOptions, run_questions
from tests.batch.toy import TOY_ENGINE, ToyLoader


@dataclass(frozen=True)
class CountingLoader(ToyLoader):
    """The toy model, counting how often a run opens it."""

    opened: list[int] = field(default_factory=list, compare=False)

    def open(self, options: EngineOptions) -> tuple[SliceEngine, TargetTexts]:
        self.opened.append(1)
        return super().open(options)


def toy_ask(out: Path, **changes: Any) -> AskOptions:
    values: dict[str, Any] = dict(out=out, engine=TOY_ENGINE, loader=CountingLoader())
    values.update(changes)
    return AskOptions(**values)


def write_lines(path: Path, lines: list[object]) -> Path:
    """A question file: dicts become JSON lines, strings are written as they are."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


if __name__ == "__main__":
    out, questions, *inputs = sys.argv[1:]
    options = QuestionsOptions(toy_ask(Path(out), encoder="none"), Path(questions), log=Path(out) / "log.jsonl")
    summary = run_questions(inputs, options)
    sys.exit(int(summary.exit_code))
