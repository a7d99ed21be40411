"""`evaluate`: run a prediction source over a dataset and gather rows, summaries and worst cases."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from medsee_cli.errors import MedseeError
from medsee_cli.eval.exposure import GROUPS, TrainingRecord
from medsee_cli.eval.items import Dataset, EvalItem
from medsee_cli.eval.metrics import PresenceCounts
from medsee_cli.eval.options import EvalOptions
from medsee_cli.eval.predictor import PredictionSource
from medsee_cli.eval.provenance import provenance, run_date
from medsee_cli.eval.sampling import sample_items
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
    provenance: dict[str, Any] = field(default_factory=dict)  # what was scored (`eval.provenance`)
    by_exposure: dict[str, dict[str, Any]] = field(default_factory=dict)  # held_out / same_patient / trained
    date: str = ""

    @property
    def failed(self) -> tuple[dict[str, Any], ...]:
        return tuple(r for r in self.rows if r.get("error"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "date": self.date,
            "provenance": self.provenance,
            "summary": self.summary,
            "by_target": self.by_target,
            "by_exposure": self.by_exposure,
            "failed": [{"item_id": r["item_id"], "error": r["error"]} for r in self.failed],
            "notes": list(self.notes),
        }


def evaluate(dataset: Dataset, source: PredictionSource, options: EvalOptions, progress: Progress | None = None,
             failure: Failure | None = None, record: TrainingRecord | None = None) -> EvalResult:
    """Score every item (or ``options.limit`` of them, sampled across targets and cases); a
    failing item is recorded (and passed to ``failure`` as ``ITEM: REASON``), not fatal.
    ``record``: the scored model's training record; each row then says whether the model saw
    the item's pixels (``exposure``), and scores are also given per exposure group."""
    items: tuple[EvalItem, ...] = sample_items(dataset.items, options.limit, options.seed)
    rows: list[dict[str, Any]] = []
    slices: dict[str, PresenceCounts] = defaultdict(PresenceCounts)
    total_slices = PresenceCounts()
    worst: list[tuple[float, int, dict[str, Any], View]] = []
    for index, item in enumerate(items):
        try:
            sample = item.load()
            prediction = source.prediction_for(item, sample)
            scored, predicted = score_item(item, sample, prediction, options)
            scored.row["exposure"] = record.exposure(item, sample) if record is not None else ""
            scored.row["orientation_known"] = sample.affine is not None
            scored.row["picture_turn"] = "" if prediction.picture_turn is None else prediction.picture_turn
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
    groups = {g: [r for r in rows if r.get("exposure") == g] for g in GROUPS} if record is not None else {}
    return EvalResult(
        dataset=dataset.name,
        rows=tuple(rows),
        summary=summarise(rows, total_slices),
        by_target=summarise_by_target(rows, dict(slices)),
        worst=tuple((e[2], e[3]) for e in ordered),
        notes=(*dataset.notes, *_notes(rows, record)),
        provenance=provenance(dataset, items, options, source),
        by_exposure={g: summarise(group) for g, group in groups.items() if group},
        date=run_date(),
    )


def exposure_warning(rows: Sequence[dict[str, Any]]) -> str:
    """The warning for items from the scored model's training record ("" when there are none)."""
    seen = [r for r in rows if r.get("exposure") in ("trained", "same_patient")]
    if not seen:
        return ""
    trained = sum(r["exposure"] == "trained" for r in seen)
    return (f"{len(seen)} of {len(rows)} items come from the model's training record ({trained} contain slices it "
            f"was trained or calibrated on, {len(seen) - trained} are other slices of its training patients): see "
            "by_exposure for the held-out scores alone")


def _notes(rows: list[dict[str, Any]], record: TrainingRecord | None) -> list[str]:
    """Warnings a reader of the scores must see: training data scored, orientation assumed."""
    notes = []
    if record is not None:
        notes += [w for w in (exposure_warning(rows),) if w]
    elif rows:
        notes.append("no training record for what was scored: items the model may have learnt from are not marked")
    unknown = [r for r in rows if not r.get("error") and r["ndim"] == 2 and not r.get("orientation_known", True)]
    turned = sum(1 for r in unknown if r.get("picture_turn", "") != "")
    if turned:
        notes.append(f"{turned} 2D items have no orientation (geometry-less pictures): the model's picture-view network "
                     "chose how each is turned (picture_turn in items.csv)")
    if len(unknown) > turned:
        notes.append(f"{len(unknown) - turned} 2D items have no orientation (geometry-less pictures): the predictor saw them as stored")
    return notes
