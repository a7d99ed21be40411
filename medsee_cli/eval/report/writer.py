"""`write_outputs`: everything an evaluation leaves in its output folder, each file atomic.

    OUT/items.csv        one row per item (columns: `report.tables.COLUMNS`)
    OUT/summary.json     what was scored (provenance, date), summary, per-target and per-exposure
                         summaries, failed items, notes
    OUT/report.md        Markdown report; OUT/report.html the same as one HTML page
    OUT/plots/*.svg      histograms of IoU, Dice, box IoU, HD95, NSD
    OUT/overlays/*.png   the worst cases (lowest IoU first)
"""

from __future__ import annotations

from pathlib import Path

from medsee_cli.errors import OutputExistsError
from medsee_cli.eval.options import EvalOptions
from medsee_cli.eval.report.document import Figures, html, markdown
from medsee_cli.eval.report.overlays import write_overlay
from medsee_cli.eval.report.svg_plots import histogram_svg
from medsee_cli.eval.report.tables import to_csv, to_json
from medsee_cli.eval.runner import EvalResult

PLOTS = (("iou", "IoU", True), ("dice", "Dice", True), ("box_iou", "box IoU", True), ("hd95", "HD95", False), ("nsd", "NSD", True))


def write_outputs(result: EvalResult, out: Path, options: EvalOptions) -> list[Path]:
    """Write the report files under ``out``; refuses to replace an earlier run without ``overwrite``."""
    from medsee_cli.io.atomic import write_text_atomic

    if (out / "summary.json").exists() and not options.overwrite:
        raise OutputExistsError(str(out / "summary.json"))
    written: list[Path] = []

    def text(name: str, content: str) -> None:
        write_text_atomic(out / name, content)
        written.append(out / name)

    rows = [r for r in result.rows if not r.get("error")]
    plots = []
    for key, title, bounded in PLOTS:
        text(f"plots/{key}.svg", histogram_svg([r[key] for r in rows], title, bounded=bounded))
        plots.append((title, f"plots/{key}.svg"))
    overlays = []
    for rank, (row, view) in enumerate(result.worst, start=1):
        name = f"overlays/{rank:02d}_{row['item_id']}.png"
        write_overlay(view, out / name)
        written.append(out / name)
        overlays.append(name)
    figures = Figures(plots=tuple(plots), overlays=tuple(overlays))
    text("items.csv", to_csv(result.rows))
    text("report.md", markdown(result, figures, options.nsd_tolerance_mm))
    text("report.html", html(result, figures, options.nsd_tolerance_mm))
    text("summary.json", to_json(result.to_dict()))  # last: marks a finished run
    return written
