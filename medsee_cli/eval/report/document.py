"""The human-readable report, as Markdown and as a standalone HTML page, from one outline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

from medsee_cli.eval.runner import EvalResult

TARGET_COLUMNS = (
    ("n", "n"), ("giou", "gIoU"), ("ciou", "cIoU"), ("dice", "Dice"), ("dice_nnunet", "Dice (nnU-Net)"),
    ("dice_slices", "Dice per slice (3D)"), ("box_iou", "box IoU"), ("box_acc50", "Acc@0.5"),
    ("hd95", "HD95"), ("nsd", "NSD"),
)
DEFINITIONS = (
    "gIoU: mean per-item IoU; an item where prediction and target are both empty counts 1.0 (LISA, MediSee).",
    "cIoU: total intersection / total union over all items.",
    "Dice: per item, both empty = 1.0 (LISA); Dice (nnU-Net): both-empty items are NaN and skipped.",
    "Dice per slice (3D): mean per-slice Dice inside each volume (LISA rule), then mean over volumes.",
    "Box IoU / Acc@0.5: over items whose target has a box; a hit is IoU > 0.5 strictly (MediSee); no predicted box = 0.",
    "HD95 (mm; pixels where spacing is unknown) and NSD at the tolerance: DeepMind surface-distance; "
    "undefined when either mask is empty (NSD 0 when only one is).",
    "Presence: precision/recall of 'target present' per slice and per case (patient x target).",
)


@dataclass(frozen=True)
class Figures:
    plots: tuple[tuple[str, str], ...]  # (title, relative path)
    overlays: tuple[str, ...]  # relative paths, same order as result.worst


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "–" if math.isnan(value) or math.isinf(value) else f"{value:.4f}"
    return str(value)


def _summary_rows(result: EvalResult, tolerance: float) -> list[list[str]]:
    s = result.summary
    rows = [[f"NSD @ {tolerance:g} mm" if key == "nsd" else label, fmt(s[key])] for key, label in TARGET_COLUMNS]
    rows += [
        ["Dice per volume (3D)", fmt(s["dice_volume"])],
        ["HD95 median", fmt(s["hd95_median"])],
        ["HD95 undefined (one mask empty)", fmt(s["hd95_undefined"])],
        ["presence per slice: precision / recall", f"{fmt(s['presence_slice']['precision'])} / {fmt(s['presence_slice']['recall'])}"],
        ["presence per case: precision / recall", f"{fmt(s['presence_case']['precision'])} / {fmt(s['presence_case']['recall'])}"],
        ["missing predictions", fmt(s["missing_predictions"])],
        ["failed items", fmt(len(result.failed))],
    ]
    return rows


def _target_rows(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    header = ["target", *(label for _, label in TARGET_COLUMNS), "presence P / R"]
    rows = []
    for name, s in result.by_target.items():
        presence = f"{fmt(s['presence_slice']['precision'])} / {fmt(s['presence_slice']['recall'])}"
        rows.append([name, *(fmt(s[key]) for key, _ in TARGET_COLUMNS), presence])
    return header, rows


EXPOSURE_LABELS = {"held_out": "held out (pixels the model never saw)", "same_patient": "other slices of training patients",
                   "trained": "contains training/calibration slices"}


def _exposure_rows(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    header = ["items", *(label for _, label in TARGET_COLUMNS)]
    rows = [[EXPOSURE_LABELS.get(g, g), *(fmt(s[key]) for key, _ in TARGET_COLUMNS)] for g, s in result.by_exposure.items()]
    return header, rows


def _scored_rows(result: EvalResult) -> list[list[str]]:
    """What was scored, flattened: dataset, model or predictions, version, options, date."""
    p = result.provenance
    rows = [[f"dataset {k}", fmt(v)] for k, v in p.get("dataset", {}).items()]
    rows += [[f"scored {k}", fmt(v)] for k, v in p.get("scored", {}).items()]
    rows += [["medsee version", fmt(p.get("medsee_version"))], ["date", result.date]]
    rows += [[f"option {k}", fmt(v)] for k, v in p.get("options", {}).items()]
    return rows


def _worst_rows(result: EvalResult) -> list[list[str]]:
    return [[r["item_id"], r["target"], r["text"], fmt(r["iou"]), fmt(r["dice"]), fmt(r["box_iou"])] for r, _ in result.worst]


WORST_HEADER = ["item", "target", "expression", "IoU", "Dice", "box IoU"]


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    safe = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(safe(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(result: EvalResult, figures: Figures, tolerance: float) -> str:
    out = [f"# medsee evaluation: {result.dataset}", ""]
    out += [f"- {note}" for note in result.notes] + ([""] if result.notes else [])
    out += ["## Summary", "", _md_table(["metric", "value"], _summary_rows(result, tolerance)), ""]
    header, rows = _target_rows(result)
    out += ["## Per target", "", _md_table(header, rows), ""]
    if result.by_exposure:
        header, rows = _exposure_rows(result)
        out += ["## By exposure to the model's training data", "", _md_table(header, rows), ""]
    out += ["## What was scored", "", _md_table(["what", "value"], _scored_rows(result)), ""]
    out += ["## Definitions", ""] + [f"- {d}" for d in DEFINITIONS] + [""]
    out += ["## Distributions", ""] + [f"![{t}]({p})" for t, p in figures.plots] + [""]
    out += ["## Worst cases (lowest IoU)", "", "Green: target only; red: prediction only; yellow: both.", ""]
    out += [_md_table(WORST_HEADER, _worst_rows(result)), ""]
    out += [f"![{r['item_id']}]({p})" for (r, _), p in zip(result.worst, figures.overlays)] + [""]
    if result.failed:
        out += ["## Failed items", ""] + [f"- {r['item_id']}: {r['error']}" for r in result.failed] + [""]
    return "\n".join(out)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
    "figure{display:inline-block;margin:6px}figcaption{font-size:12px;max-width:300px}img.overlay{width:300px}"
)


def html(result: EvalResult, figures: Figures, tolerance: float) -> str:
    title = f"medsee evaluation: {escape(result.dataset)}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head><body>"]
    parts.append(f"<h1>{title}</h1>")
    if result.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in result.notes) + "</ul>")
    parts.append("<h2>Summary</h2>" + _html_table(["metric", "value"], _summary_rows(result, tolerance)))
    header, rows = _target_rows(result)
    parts.append("<h2>Per target</h2>" + _html_table(header, rows))
    if result.by_exposure:
        header, rows = _exposure_rows(result)
        parts.append("<h2>By exposure to the model's training data</h2>" + _html_table(header, rows))
    parts.append("<h2>What was scored</h2>" + _html_table(["what", "value"], _scored_rows(result)))
    parts.append("<h2>Definitions</h2><ul>" + "".join(f"<li>{escape(d)}</li>" for d in DEFINITIONS) + "</ul>")
    parts.append("<h2>Distributions</h2>" + "".join(f"<img src='{escape(p)}' alt='{escape(t)}'>" for t, p in figures.plots))
    parts.append("<h2>Worst cases (lowest IoU)</h2><p>Green: target only; red: prediction only; yellow: both.</p>")
    parts.append(_html_table(WORST_HEADER, _worst_rows(result)))
    for (row, _), path in zip(result.worst, figures.overlays):
        caption = f"{row['item_id']} — {row['text']} — IoU {fmt(row['iou'])}"
        parts.append(f"<figure><img class='overlay' src='{escape(path)}'><figcaption>{escape(caption)}</figcaption></figure>")
    if result.failed:
        parts.append("<h2>Failed items</h2><ul>" + "".join(f"<li>{escape(r['item_id'])}: {escape(r['error'])}</li>" for r in result.failed) + "</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)
