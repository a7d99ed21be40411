"""Score a reasoner on a JSONL question set: {"query": "...", "targets": ["name", ...]} per line,
optionally with the scan in view: "scan": {"modality": "CT", "regions": ["abdomen"]} (see ``scan.ScanContext``)
and a "style" tag ("landmark", "clinician", ...) that reports can group by.

A line is a top-1 hit when the top-ranked target is one of ``targets``, a top-3 hit when any of
the first three is. A line with an empty ``targets`` list is out of scope: it is a hit when the
reasoner abstains. ``top1``/``top3`` are computed over in-scope lines, ``abstain_accuracy`` over
out-of-scope lines; each is ``None`` when the file has no line of that sort.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from medsee_cli.errors import InputError
from medsee_cli.reasoning.resolution import Reasoner
from medsee_cli.reasoning.scan import ScanContext


@dataclass(frozen=True)
class Question:
    line: int
    query: str
    targets: tuple[str, ...]
    scan: Optional[ScanContext] = None
    style: str = ""  # the optional "style" tag of the line ("landmark", "clinician", ...), for per-style figures


@dataclass(frozen=True)
class ItemResult:
    line: int
    query: str
    expected: tuple[str, ...]
    predicted: tuple[str, ...]
    abstained: bool
    hit: bool
    top3_hit: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "query": self.query,
            "expected": list(self.expected),
            "predicted": list(self.predicted),
            "abstained": self.abstained,
            "hit": self.hit,
            "top3_hit": self.top3_hit,
        }


@dataclass(frozen=True)
class ReasoningReport:
    n: int
    top1: Optional[float]
    top3: Optional[float]
    abstain_accuracy: Optional[float]
    items: tuple[ItemResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "top1": self.top1,
            "top3": self.top3,
            "abstain_accuracy": self.abstain_accuracy,
            "items": [item.to_dict() for item in self.items],
        }


def read_questions(path: Path, known: Optional[set[str]] = None) -> tuple[Question, ...]:
    """Read and check a question file; bad lines raise InputError naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    questions = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(where, f"is not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("query"), str):
            raise InputError(where, 'needs an object with a "query" string')
        targets = raw.get("targets")
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise InputError(where, '"targets" must be a list of target names (empty = out of scope)')
        unknown = [t for t in targets if known is not None and t not in known]
        if unknown:
            raise InputError(where, f"unknown target name(s): {', '.join(unknown)}")
        scan = raw.get("scan")
        try:
            context = ScanContext.from_dict(scan) if scan is not None else None
        except (AttributeError, TypeError, ValueError) as exc:
            raise InputError(where, f'"scan" must be {{"modality": ..., "regions": [...]}} ({exc})') from None
        style = raw.get("style", "")
        if not isinstance(style, str):
            raise InputError(where, '"style" must be a string')
        questions.append(Question(line=number, query=raw["query"], targets=tuple(targets), scan=context, style=style))
    if not questions:
        raise InputError(str(path), "holds no questions")
    return tuple(questions)


def _mean(flags: list[bool]) -> Optional[float]:
    return round(sum(flags) / len(flags), 4) if flags else None


def score(questions: tuple[Question, ...], reasoner: Reasoner) -> ReasoningReport:
    items = []
    for question in questions:
        resolution = (reasoner.resolve(question.query, scan=question.scan) if question.scan is not None
                      else reasoner.resolve(question.query))
        predicted = resolution.names()
        if question.targets:
            hit = bool(predicted) and predicted[0] in question.targets
            top3 = any(name in question.targets for name in predicted[:3])
        else:
            hit = top3 = resolution.abstained
        items.append(ItemResult(question.line, question.query, question.targets, predicted[:3],
                                resolution.abstained, hit, top3))
    in_scope = [i for i in items if i.expected]
    out_scope = [i for i in items if not i.expected]
    return ReasoningReport(
        n=len(items),
        top1=_mean([i.hit for i in in_scope]),
        top3=_mean([i.top3_hit for i in in_scope]),
        abstain_accuracy=_mean([i.hit for i in out_scope]),
        items=tuple(items),
    )


def evaluate_questions(path: Path, resolver: Optional[Reasoner] = None) -> ReasoningReport:
    """Score ``resolver`` (default: the packaged resolver with the sentence encoder) on ``path``."""
    from medsee_cli.reasoning.resolver import ReasonerOptions, Resolver

    if resolver is None:
        resolver = Resolver.from_options(ReasonerOptions())
    known = set(resolver.kb.names()) if hasattr(resolver, "kb") else None
    return score(read_questions(Path(path), known), resolver)
