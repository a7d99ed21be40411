"""`evaluate`: run a prediction source over a dataset and gather rows, summaries and worst cases."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medsee_cli.errors import MedseeError
from medsee_cli.eval.items import Dataset
from medsee_cli.eval.metrics import PresenceCounts
from medsee_cli.eval.options import EvalOptions
from medsee_cli.eval.predictor import PredictionSource
from medsee_cli.eval.scoring import View, score_item, view_of
from medsee_cli.eval.summary import summarise, summarise_by_target

Progress = Callable[[int, int, str], None]
Failure = Callable[[str], None]  # told "ITEM: REASON" as each item fails


@dataclass(frozen=True)
class EvalResult:
    dataset: str
    rows: tuple[dict[str, Any], ...]
    summary: dict[str, Any]
    by_target: dict[str, dict[str, Any]]
    worst: tuple[tuple[dict[str, Any], View], ...]  # lowest IoU first
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> tuple[dict[str, Any], ...]:
        return tuple(r for r in self.rows if r.get("error"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "summary": self.summary,
            "by_target": self.by_target,
            "failed": [{"item_id": r["item_id"], "error": r["error"]} for r in self.failed],
            "notes": list(self.notes),
        }


def evaluate(dataset: Dataset, source: PredictionSource, options: EvalOptions, progress: Progress | None = None,
             failure: Failure | None = None) -> EvalResult:
    """Score every item (or the first ``options.limit``); a failing item is recorded (and
    passed to ``failure`` as ``ITEM: REASON``), not fatal."""
    items = dataset.items[: options.limit] if options.limit else dataset.items
    rows: list[dict[str, Any]] = []
    slices: dict[str, PresenceCounts] = defaultdict(PresenceCounts)
    total_slices = PresenceCounts()
    worst: list[tuple[float, int, dict[str, Any], View]] = []
    for index, item in enumerate(items):
        try:
            sample = item.load()
            prediction = source.prediction_for(item, sample)
            scored, predicted = score_item(item, sample, prediction, options)
        except MedseeError as exc:
            if failure is not None:
                failure(f"{item.item_id}: {exc}")
            rows.append({"item_id": item.item_id, "case_id": item.case_id, "target": item.target, "error": str(exc)})
        else:
            rows.append(scored.row)
            counts = PresenceCounts.of(scored.slice_predicted, scored.slice_present)
            slices[item.target] = slices[item.target] + counts
            total_slices = total_slices + counts
            if options.worst > 0:
                key = -float(scored.row["iou"])  # the heap root is the kept item with the highest IoU
                entry = (key, -index, scored.row, view_of(sample, predicted))
                if len(worst) < options.worst:
                    heapq.heappush(worst, entry)
                elif entry[:2] > worst[0][:2]:
                    heapq.heapreplace(worst, entry)
        if progress is not None:
            progress(index + 1, len(items), item.item_id)
    ordered = sorted(worst, key=lambda e: (-e[0], -e[1]))
    return EvalResult(
        dataset=dataset.name,
        rows=tuple(rows),
        summary=summarise(rows, total_slices),
        by_target=summarise_by_target(rows, dict(slices)),
        worst=tuple((e[2], e[3]) for e in ordered),
        notes=dataset.notes,
    )
