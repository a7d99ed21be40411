"""A question file for ``medsee ask --questions FILE.jsonl``: one JSON object per line.

Each line is ``{"question": "...", "id": "...", "image": "..."}``: ``question`` is required;
``id`` names the line's result folders (letters, digits, ``.``, ``_``, ``-``; default ``q`` and
the line number, ``q0007``); ``image`` (relative to the file's folder) makes the line run on
that image only, instead of on every input of the command line. Blank lines and lines starting
with ``#`` are skipped. A line that cannot be used (not a JSON object, no question, an unknown
key, a bad or repeated id, an image that does not exist) is a `BadLine` with its line number
and the reason, and the other lines still run; a file that cannot be read at all, or that
holds no line at all, is a usage error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from medsee_cli.errors import UsageError

KEYS = ("question", "id", "image")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class QuestionLine:
    """A usable line: ``image`` is resolved against the file's folder (None: every input)."""

    line: int
    ident: str
    question: str
    image: Optional[Path] = None


@dataclass(frozen=True)
class BadLine:
    """A line that cannot run. ``reason`` names no path (it goes to the summary and the log);
    ``image`` is the path the line gave, for the console only."""

    line: int
    reason: str
    image: Optional[str] = None

    @property
    def item(self) -> str:
        return f"line {self.line}"

    def private(self) -> str:
        """The reason for the summary and the log: the line number, no path."""
        where = "image: " if self.image else ""
        return f"line {self.line}: {where}{self.reason}"

    def console(self, file: str | Path) -> str:
        """The reason as the console shows it: ``FILE:LINE: [IMAGE: ]REASON``."""
        where = f"{self.image}: " if self.image else ""
        return f"{file}:{self.line}: {where}{self.reason}"


@dataclass(frozen=True)
class QuestionFile:
    path: Path
    lines: tuple[QuestionLine, ...]
    bad: tuple[BadLine, ...]


def read_questions(path: Path) -> QuestionFile:
    """Every line of ``path``, usable or not (`UsageError` when the file cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError("--questions", f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError("--questions", f"{path} cannot be read ({exc.strerror or exc})") from None
    good: list[QuestionLine] = []
    bad: list[BadLine] = []
    taken: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parsed = _parse(raw, number, path.parent)
        if isinstance(parsed, BadLine):
            bad.append(parsed)
        elif parsed.ident in taken:
            bad.append(BadLine(number, f'id "{parsed.ident}" is used by line {taken[parsed.ident]} already'))
        else:
            taken[parsed.ident] = number
            good.append(parsed)
    if not good and not bad:
        raise UsageError("--questions", f"{path} holds no question")
    return QuestionFile(path, tuple(good), tuple(bad))


def _parse(raw: str, number: int, folder: Path) -> QuestionLine | BadLine:
    try:
        doc: Any = json.loads(raw)
    except ValueError as exc:
        return BadLine(number, f"not JSON ({exc})")
    if not isinstance(doc, dict):
        return BadLine(number, f"not a JSON object (a {type(doc).__name__})")
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        return BadLine(number, f"unknown key {', '.join(map(repr, unknown))} (keys: {', '.join(KEYS)})")
    question = doc.get("question")
    if not isinstance(question, str) or not question.strip():
        return BadLine(number, 'has no "question" (a non-empty string)')
    ident = doc.get("id", f"q{number:04d}")
    if not isinstance(ident, str) or not ID_PATTERN.fullmatch(ident):
        return BadLine(number, f"id {json.dumps(ident)} is not a folder name (letters, digits, . _ -; "
                               "at most 64, not starting with . _ or -)")
    image = doc.get("image")
    if image is None:
        return QuestionLine(number, ident, question.strip())
    if not isinstance(image, str) or not image.strip():
        return BadLine(number, '"image" is not a path')
    where = folder / Path(image).expanduser()
    if not where.exists():
        return BadLine(number, "no such file or folder", image)
    return QuestionLine(number, ident, question.strip(), where)
