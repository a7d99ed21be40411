"""Which questions of a question file run on which case: the work list of ``ask --questions``.

Every input of the command line becomes its cases (`batch_inputs.list_cases`: a file, a DICOM
folder, or every series of an ingest catalog folder). A line without ``image`` runs on every
case of those inputs; a line with one runs on that image's cases only (the same cases as an
input naming the same file or folder, else cases of its own, after the inputs'). Case ids are
unique across the run, the inputs' first, so adding a line with an image never renames them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medsee_cli.services.batch_inputs import Case
from medsee_cli.services.question_file import BadLine, QuestionFile, QuestionLine

NO_INPUT = 'has no "image", and the command line names no input'


@dataclass(frozen=True)
class CaseWork:
    """One case and the lines that run on it, in file order."""

    case: Case
    lines: tuple[QuestionLine, ...]


def plan_work(inputs: Sequence[str | Path], questions: QuestionFile) -> tuple[list[CaseWork], list[BadLine]]:
    """The cases in order with their lines, and the lines that can run nowhere."""
    from medsee_cli.services.batch_inputs import list_cases, unique

    everyone = tuple(line for line in questions.lines if line.image is None)
    groups: dict[Path, tuple[Path, list[QuestionLine]]] = {}
    for item in inputs:
        groups.setdefault(_where(Path(item)), (Path(item), list(everyone)))
    for line in questions.lines:
        if line.image is not None:
            groups.setdefault(_where(line.image), (line.image, []))[1].append(line)
    found = [(case, tuple(sorted(lines, key=lambda q: q.line))) for source, lines in groups.values() if lines
             for case in list_cases([source])]
    ids = unique([case.ident for case, _ in found])
    work = [CaseWork(replace(c, ident=i), lines) for i, (c, lines) in zip(ids, found)]
    nowhere = [BadLine(line.line, NO_INPUT) for line in everyone] if not inputs else []
    return work, nowhere


def _where(path: Path) -> Path:
    """One key per file or folder, however it was named."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
